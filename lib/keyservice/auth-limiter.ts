import type { RequestMeta } from "@/lib/http/request-meta";
import { WindowCounter } from "@/lib/http/window-counter";

/** How many failed authentications the key service takes per window (lib/config: KEYSERVICE_AUTH_*). */
export type AuthFailureLimits = { perIp: number; perCredential: number; windowSeconds: number };

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { perIp: 30, perCredential: 10, windowSeconds: 60 };

/** A limit exceeded for the first time in its window. */
export type LimitCrossed = { scope: "ip" | "credential"; key: string; limit: number; windowSeconds: number };

/**
 * Failed bearer authentications on the key service, counted per client address and per
 * credential id (the id inside a `csk_` token), in fixed windows, in this process's memory: a
 * first layer (each instance counts on its own).
 * - An address over its limit is answered 429 before its token is looked up, so a flood of
 *   made-up tokens costs no database reads, until its window ends.
 * - A credential id over its limit: failing attempts with that id get 429 instead of 401; a
 *   request with the right secret still passes, so nobody can lock a vendor's application out
 *   by sending wrong secrets with its id.
 * `onCrossed` runs once per window per address or id, when its limit is first exceeded: one
 * audit event per window, not one per request.
 */
export class AuthFailureLimiter {
  private readonly byIp: WindowCounter;
  private readonly byCredential: WindowCounter;

  constructor(
    readonly limits: AuthFailureLimits,
    private readonly onCrossed: (crossed: LimitCrossed, request: RequestMeta) => Promise<void>,
  ) {
    // Blocked past the limit: the limit-th failure still answers 401.
    this.byIp = new WindowCounter("ip", limits.perIp + 1, limits.windowSeconds);
    this.byCredential = new WindowCounter("credential", limits.perCredential + 1, limits.windowSeconds);
  }

  /** Seconds until `ip` may try again, or 0 when it may now. */
  blockedFor(ip: string): Promise<number> {
    return this.byIp.blockedFor(ip);
  }

  /** Counts a failed authentication; the seconds to wait when the address or the id is now over its limit, else 0. */
  async failed(request: RequestMeta, credentialId: string | null): Promise<number> {
    const waits = await Promise.all([
      this.count(this.byIp, "ip", request.sourceIp ?? "unknown", this.limits.perIp, request),
      credentialId ? this.count(this.byCredential, "credential", credentialId, this.limits.perCredential, request) : 0,
    ]);
    return Math.max(...waits);
  }

  private async count(counter: WindowCounter, scope: LimitCrossed["scope"], key: string, limit: number, request: RequestMeta): Promise<number> {
    const { wait, crossed } = await counter.count(key);
    if (crossed) await this.onCrossed({ scope, key, limit, windowSeconds: this.limits.windowSeconds }, request);
    return wait;
  }
}

/** The limits from parsed configuration. */
export function authFailureLimitsOf(env: {
  KEYSERVICE_AUTH_FAILURES_PER_IP: number;
  KEYSERVICE_AUTH_FAILURES_PER_CREDENTIAL: number;
  KEYSERVICE_AUTH_FAILURE_WINDOW_SECONDS: number;
}): AuthFailureLimits {
  return {
    perIp: env.KEYSERVICE_AUTH_FAILURES_PER_IP,
    perCredential: env.KEYSERVICE_AUTH_FAILURES_PER_CREDENTIAL,
    windowSeconds: env.KEYSERVICE_AUTH_FAILURE_WINDOW_SECONDS,
  };
}
