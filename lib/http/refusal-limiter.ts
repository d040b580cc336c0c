import "server-only";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { getConfig } from "@/lib/config";
import { errorFields, log } from "@/lib/log";

// Refused console actions, counted per person. Each refusal the data layer decides is an audit
// event (lib/authz), so without a bound a signed-in person could write events without end, into
// the vendor's chain or their own tenant's. Past CONSOLE_REFUSALS_PER_USER refusals in
// CONSOLE_REFUSAL_WINDOW_SECONDS, every action of theirs is answered `rate_limited` before it
// runs (nothing is decided, nothing audited) until the window ends; the crossing itself is one
// event in the vendor's chain (ids only). In this process's memory: a first layer, each
// instance counts on its own, like the key service's (lib/keyservice/auth-limiter.ts).

export type RefusalLimits = { perUser: number; windowSeconds: number };

export class RefusalLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(
    readonly limits: RefusalLimits,
    private readonly onCrossed: (caller: Caller, limits: RefusalLimits) => Promise<void> = recordCrossing,
  ) {
    this.limiter = new RateLimiterMemory({ keyPrefix: "console-refusals", points: limits.perUser, duration: limits.windowSeconds });
  }

  /** Seconds until `userId` may act again, or 0 when they may now. */
  async blockedFor(userId: string): Promise<number> {
    const res = await this.limiter.get(userId);
    return res && res.consumedPoints > this.limits.perUser ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
  }

  /** Counts one refusal of `caller`'s; the first one over the limit is recorded. */
  async refused(caller: Caller): Promise<void> {
    const res = await this.limiter.penalty(caller.userId, 1);
    if (res.consumedPoints === this.limits.perUser + 1) await this.onCrossed(caller, this.limits);
  }
}

async function recordCrossing(caller: Caller, limits: RefusalLimits): Promise<void> {
  try {
    await recordAuditEvent({
      tenantId: null,
      actor: { type: "user", id: caller.userId, label: caller.userId },
      action: AUDIT_ACTIONS.consoleRefusalsRateLimited,
      outcome: "denied",
      request: caller.request,
      details: { refusals: limits.perUser + 1, windowSeconds: limits.windowSeconds },
    });
  } catch (error) {
    // Refusing is the safe side; the log keeps the miss.
    log.error(errorFields(error), "could not record a rate limit in the audit trail");
  }
}

// One per process, shared through globalThis: `npm start` loads lib/ in two module copies.
const shared = globalThis as unknown as { custodyRefusalLimiter?: RefusalLimiter };

export function refusalLimiter(): RefusalLimiter {
  const config = getConfig();
  const limits = { perUser: config.CONSOLE_REFUSALS_PER_USER, windowSeconds: config.CONSOLE_REFUSAL_WINDOW_SECONDS };
  const current = shared.custodyRefusalLimiter;
  if (current && current.limits.perUser === limits.perUser && current.limits.windowSeconds === limits.windowSeconds) return current;
  return (shared.custodyRefusalLimiter = new RefusalLimiter(limits));
}
