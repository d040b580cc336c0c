import { expect } from "vitest";
import { AppError } from "@/lib/errors";

/** The error `promise` was rejected with, which must be a `type` (fails the test otherwise). */
export async function rejection<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected a ${type.name}`).toBeInstanceOf(type);
  return error as E;
}

/** The refusal (an AppError: code and plain-language message) that `promise` was rejected with. */
export function refusal(promise: Promise<unknown>): Promise<AppError> {
  return rejection(promise, AppError);
}
