import "server-only";
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { noteDatabaseError } from "@/lib/db/health";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { type ErrorCode, GENERIC_MESSAGE, isAppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { fieldErrorsOf } from "@/lib/validation/tenants";

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

/** Parses form data with a schema; a failure becomes a bad_request result with per-field messages. */
export function parseForm<S extends z.ZodType>(
  schema: S,
  formData: FormData,
): { ok: true; data: z.output<S> } | { ok: false; result: ActionResult<never> } {
  const parsed = schema.safeParse(Object.fromEntries(formData));
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    result: { ok: false, code: "bad_request", message: "Please correct the highlighted fields.", fieldErrors: fieldErrorsOf(parsed.error) },
  };
}

/**
 * Runs a server action's work and turns refusals into results the form can show. Anything
 * unexpected is logged and answered with a generic message: raw error text never reaches the browser.
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
    if (isAppError(error)) {
      // A refusal on purpose (a taken name, no permission): worth a line, not an error.
      log.info({ code: error.code }, "action refused");
      return { ok: false, code: error.code, message: error.message, fieldErrors: error.fieldErrors, id, values };
    }
    // Next signals redirects and notFound by throwing; those must pass through.
    if (error instanceof Error && "digest" in error && typeof error.digest === "string" && error.digest.startsWith("NEXT_")) {
      throw error;
    }
    // The database restarting or failing over: the person may simply try again.
    if (isDatabaseUnavailable(error)) {
      noteDatabaseError(error);
      return { ok: false, code: "unavailable", message: DATABASE_UNAVAILABLE_MESSAGE, id, values };
    }
    log.error(errorFields(error), "server action failed");
    return { ok: false, code: "internal", message: GENERIC_MESSAGE, id, values };
  }
}
