import "server-only";
import { z } from "zod";
import type { Caller } from "@/lib/authz";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { AppError, type ErrorCode, isAppError } from "@/lib/errors";
import { parseInput } from "@/lib/validation/parse";
import { type ActionResult, actionResult } from "./action-result";
import { refusalLimiter } from "./refusal-limiter";

// The one preamble of every server action (`export const xAction = authedAction(schema, handler)`
// in an app/**/actions.ts "use server" file): a signed-in caller, the form parsed with `schema`
// (bad input: bad_request with per-field messages, nothing runs), and every error mapped to an
// ActionResult (lib/http/public-error.ts). Membership and role are not decided here: the data
// layer decides them inside the transaction that makes the change and audits a refusal there
// (lib/authz), so a replayed or forged action meets the same rule as the form. Cross-site
// submissions never get this far: the HTTP server answers them 403 (lib/http/same-origin.ts).
// A person refused too often in a window is answered `rate_limited` before anything runs
// (lib/http/refusal-limiter.ts).

export const SIGNED_OUT_MESSAGE = "Your session has ended. Sign in again.";

/** The refusals the data layer audits (lib/authz): counted per person (refusal-limiter.ts). */
const COUNTED_REFUSALS = new Set<ErrorCode>(["forbidden", "not_found"]);

/** For a form the data layer parses itself (it answers per field): the raw fields pass through. */
export const UNPARSED_FORM = z.record(z.string(), z.unknown());

export type ActionContext = { caller: Caller; formData: FormData };

export type AuthedActionOptions = {
  /** The form as echoed back on a refusal (to keep what was typed); by default all of it. */
  echo?: (formData: FormData) => FormData;
};

export function authedAction<S extends z.ZodType, T = undefined>(
  schema: S,
  handler: (input: z.output<S>, context: ActionContext) => Promise<ActionResult<T>>,
  options: AuthedActionOptions = {},
): (previous: ActionResult<T> | null, formData: FormData) => Promise<ActionResult<T>> {
  return async (_previous, formData) =>
    actionResult<T>(options.echo ? options.echo(formData) : formData, async () => {
      const principal = await getPrincipal();
      if (!principal) throw new AppError("unauthenticated", SIGNED_OUT_MESSAGE);
      const caller = await callerFor(principal);
      const limiter = refusalLimiter();
      const wait = await limiter.blockedFor(caller.userId);
      if (wait > 0) throw new AppError("rate_limited", `Too many refused actions. Try again in ${wait} s.`);
      const input = parseInput(schema, Object.fromEntries(formData));
      try {
        return await handler(input, { caller, formData });
      } catch (error) {
        if (isAppError(error) && COUNTED_REFUSALS.has(error.code)) await limiter.refused(caller);
        throw error;
      }
    });
}
