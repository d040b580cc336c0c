import "server-only";
import { noteDatabaseError } from "@/lib/db/health";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { ERROR_STATUS, type ErrorCode, GENERIC_MESSAGE, isAppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";

// The one error mapping for server actions and route handlers: what a browser may see of
// something that went wrong. A refusal on purpose (AppError) keeps its code and message; the
// database being away is `unavailable`; anything else is logged and answered generically, so
// raw error text never reaches the client.

export type PublicError = { code: ErrorCode; message: string; fieldErrors?: Record<string, string[]> };

/** Next signals redirects and notFound by throwing; those must pass through. */
function isNextControlFlow(error: unknown): boolean {
  return error instanceof Error && "digest" in error && typeof error.digest === "string" && error.digest.startsWith("NEXT_");
}

/**
 * The client's view of `error`. `route` names a route handler in the log line; without it the
 * error came from a server action. Rethrows Next's control-flow errors (redirect, notFound).
 */
export function publicErrorOf(error: unknown, route?: string): PublicError {
  if (isAppError(error)) {
    // A refusal on purpose (a taken name, no permission): worth a line, not an error.
    if (route) log.info({ route, code: error.code }, "request refused");
    else log.info({ code: error.code }, "action refused");
    return { code: error.code, message: error.message, fieldErrors: error.fieldErrors };
  }
  if (isNextControlFlow(error)) throw error;
  // The database restarting or failing over: the person may simply try again.
  if (isDatabaseUnavailable(error)) {
    noteDatabaseError(error);
    return { code: "unavailable", message: DATABASE_UNAVAILABLE_MESSAGE };
  }
  if (route) log.error({ route, ...errorFields(error) }, "route handler failed");
  else log.error(errorFields(error), "server action failed");
  return { code: "internal", message: GENERIC_MESSAGE };
}

/**
 * The one refusal a route handler sends: `{ error: { code, message } }` with the code's status,
 * never cached; the 503s carry Retry-After.
 */
export function refusalResponse(code: ErrorCode, message: string): Response {
  const status = ERROR_STATUS[code];
  return Response.json(
    { error: { code, message } },
    { status, headers: { "Cache-Control": "no-store", ...(status === 503 ? { "Retry-After": "10" } : {}) } },
  );
}
