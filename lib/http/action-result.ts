import "server-only";
import { randomUUID } from "node:crypto";
import type { ErrorCode } from "@/lib/errors";
import { publicErrorOf } from "./public-error";

type Submission = {
  /** Differs for every submission, so a form can re-mount its fields with fresh defaults. */
  id?: string;
  /** The text fields as submitted, for re-filling the form after a refusal. */
  values?: Record<string, string>;
};

export type ActionResult<T = undefined> = Submission &
  (
    | { ok: true; message?: string; data?: T }
    | { ok: false; code: ErrorCode; message: string; fieldErrors?: Record<string, string[]> }
  );

/**
 * Runs a server action's work and turns refusals into results the form can show
 * (`publicErrorOf`: anything unexpected is logged and answered with a generic message, raw
 * error text never reaches the browser). `authedAction` calls it; use that.
 */
export async function actionResult<T>(
  formData: FormData,
  work: () => Promise<ActionResult<T>>,
): Promise<ActionResult<T>> {
  const id = randomUUID();
  const values = Object.fromEntries(
    [...formData.entries()].filter(
      (entry): entry is [string, string] => typeof entry[1] === "string" && !entry[0].startsWith("$ACTION"),
    ),
  );
  try {
    const result = await work();
    return result.ok ? { ...result, id } : { ...result, id, values };
  } catch (error) {
    return { ok: false, ...publicErrorOf(error), id, values };
  }
}
