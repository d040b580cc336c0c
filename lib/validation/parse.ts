import type { z } from "zod";
import { AppError } from "@/lib/errors";

// The one zod-to-error helper: forms, server actions and the data layer all answer bad input
// with the same bad_request and per-field messages, and change nothing.

export const CORRECT_FIELDS_MESSAGE = "Please correct the highlighted fields.";

/** A zod error as per-field messages, for forms. */
export function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "form";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Parses input with a schema; a failure throws a bad_request AppError with per-field messages. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new AppError("bad_request", CORRECT_FIELDS_MESSAGE, fieldErrorsOf(parsed.error));
}
