import type { RequestMeta } from "@/lib/http/request-meta";
import { WindowCounter } from "@/lib/http/window-counter";

// Sign-in attempts, counted per client address (the server in front of Next sets it: the
// socket's address, or the trusted proxy's X-Forwarded-For with TRUST_PROXY). Two counts, in
// fixed windows, in this process's memory (a first layer, each instance counts on its own, like
// lib/keyservice/auth-limiter.ts):
// - starts: each one sends the browser to the identity provider (and makes Custody fetch its
//   discovery document): past SIGN_IN_ATTEMPTS_PER_IP an address is answered 429;
// - failures: a callback that ends without a session (a forged or replayed callback, a state
//   that does not match, a person the IdP vouched for whom Custody refuses, each of which writes
//   an audit event): after SIGN_IN_FAILURES_PER_IP of them every sign-in step from the address
//   gets 429.
// Until the window ends the address is answered before next-auth runs: no IdP round trip, no
// database read, no audit event. The crossing itself is one event per window (`onCrossed`).

export type SignInLimits = { attemptsPerIp: number; failuresPerIp: number; windowSeconds: number };

export type SignInLimitCrossed = { scope: "attempts" | "failures"; limit: number; windowSeconds: number };

export class SignInLimiter {
  private readonly attempts: WindowCounter;
  private readonly failures: WindowCounter;

  constructor(
    readonly limits: SignInLimits,
    private readonly onCrossed: (crossed: SignInLimitCrossed, request: RequestMeta) => Promise<void>,
  ) {
    // A start is counted before it runs (the one over the limit is refused); a failure after (the
    // one that reaches the limit is the last that ran).
    this.attempts = new WindowCounter("sign-in-attempts", limits.attemptsPerIp + 1, limits.windowSeconds);
    this.failures = new WindowCounter("sign-in-failures", limits.failuresPerIp, limits.windowSeconds);
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  async blockedFor(request: RequestMeta): Promise<number> {
    const ip = addressOf(request);
    return Math.max(...(await Promise.all([this.attempts.blockedFor(ip), this.failures.blockedFor(ip)])));
  }

  /** Counts a sign-in start; the seconds to wait when the address is now over its limit, else 0. */
  started(request: RequestMeta): Promise<number> {
    return this.count(this.attempts, "attempts", this.limits.attemptsPerIp, request);
  }

  /** Counts a sign-in that ended without a session. */
  failed(request: RequestMeta): Promise<number> {
    return this.count(this.failures, "failures", this.limits.failuresPerIp, request);
  }

  private async count(counter: WindowCounter, scope: SignInLimitCrossed["scope"], limit: number, request: RequestMeta): Promise<number> {
    const { wait, crossed } = await counter.count(addressOf(request));
    if (crossed) await this.onCrossed({ scope, limit, windowSeconds: this.limits.windowSeconds }, request);
    return wait;
  }
}

function addressOf(request: RequestMeta): string {
  return request.sourceIp ?? "unknown";
}
