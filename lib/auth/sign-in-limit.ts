import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { getConfig } from "@/lib/config";
import { type RequestMeta, requestMetaFromHeaders } from "@/lib/http/request-meta";
import { errorFields, log } from "@/lib/log";
import { SignInLimiter, type SignInLimitCrossed, type SignInLimits } from "./sign-in-limiter";

// next-auth's sign-in steps behind the per-address limits of ./sign-in-limiter.ts: the route
// handler (app/api/auth/[...nextauth]/route.ts) is wrapped, so a limited address is answered
// 429 with Retry-After before next-auth runs.

type Handler<C> = (request: Request, context: C) => Promise<Response>;

/** Which sign-in step a request to next-auth is: starting one (POST), the IdP's callback, another request for a provider's sign-in (limited, not counted), or none. */
export function signInStep(request: Request): "start" | "callback" | "other" | null {
  const { pathname } = new URL(request.url);
  if (/^\/api\/auth\/signin\/[^/]+$/.test(pathname)) return request.method === "POST" ? "start" : "other";
  if (/^\/api\/auth\/callback\/[^/]+$/.test(pathname)) return "callback";
  return null;
}

/**
 * A callback's answer that signed nobody in: next-auth's error page, or Custody's refusal pages.
 * Only the path counts: next-auth writes its redirects with NEXTAUTH_URL's origin, which need
 * not be the one the request arrived under (and its redirect callback never leaves Custody).
 */
export function isFailedSignIn(response: Response, base: string): boolean {
  if (response.status >= 400) return true;
  const location = response.headers.get("location");
  if (response.status < 300 || response.status >= 400 || !location) return false;
  const url = new URL(location, base);
  if (url.pathname === "/no-access" || url.pathname === "/api/auth/error") return true;
  return (url.pathname === "/signin" || url.pathname === "/api/auth/signin") && url.searchParams.has("error");
}

export function tooManySignIns(seconds: number): Response {
  return new Response(`Too many sign-in attempts from your address. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.\n`, {
    status: 429,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": String(seconds), "cache-control": "no-store" },
  });
}

/** Wraps next-auth's route handler with the sign-in limits. */
export function limitSignIn<C>(handler: Handler<C>, limiter: () => SignInLimiter = signInLimiter): Handler<C> {
  return async (request, context) => {
    const step = signInStep(request);
    if (step === null) return handler(request, context);
    const meta = requestMetaFromHeaders(request.headers);
    const limits = limiter();
    const wait = (await limits.blockedFor(meta)) || (step === "start" ? await limits.started(meta) : 0);
    if (wait > 0) return tooManySignIns(wait);
    const response = await handler(request, context);
    if (step === "callback" && isFailedSignIn(response, request.url)) await limits.failed(meta);
    return response;
  };
}

async function recordCrossing(crossed: SignInLimitCrossed, request: RequestMeta): Promise<void> {
  try {
    await recordAuditEvent({
      tenantId: null,
      actor: { type: "system", id: null, label: "sign-in" },
      action: AUDIT_ACTIONS.signInRateLimited,
      outcome: "denied",
      request,
      details: { scope: crossed.scope, count: crossed.limit + 1, windowSeconds: crossed.windowSeconds },
    });
  } catch (error) {
    // Refusing is the safe side; the log keeps the miss.
    log.error({ ...errorFields(error), scope: crossed.scope }, "could not record a rate limit in the audit trail");
  }
}

// One per process, shared through globalThis: `npm start` loads lib/ in two module copies.
const shared = globalThis as unknown as { custodySignInLimiter?: SignInLimiter };

export function signInLimiter(): SignInLimiter {
  const config = getConfig();
  const limits: SignInLimits = {
    attemptsPerIp: config.SIGN_IN_ATTEMPTS_PER_IP,
    failuresPerIp: config.SIGN_IN_FAILURES_PER_IP,
    windowSeconds: config.SIGN_IN_WINDOW_SECONDS,
  };
  const current = shared.custodySignInLimiter;
  if (current && JSON.stringify(current.limits) === JSON.stringify(limits)) return current;
  return (shared.custodySignInLimiter = new SignInLimiter(limits, recordCrossing));
}
