import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { getConfig } from "@/lib/config";
import { errorFields, log } from "@/lib/log";
import { WindowCounter } from "./window-counter";

// Refused console actions, counted per person. Each refusal the data layer decides is an audit
// event (lib/authz), so without a bound a signed-in person could write events without end, into
// the vendor's chain or their own tenant's. Past CONSOLE_REFUSALS_PER_USER refusals in
// CONSOLE_REFUSAL_WINDOW_SECONDS, every action of theirs is answered `rate_limited` before it
// runs (nothing is decided, nothing audited) until the window ends; the crossing itself is one
// event in the vendor's chain (ids only). In this process's memory: a first layer, each
// instance counts on its own, like the key service's (lib/keyservice/auth-limiter.ts).

export type RefusalLimits = { perUser: number; windowSeconds: number };

export class RefusalLimiter {
  private readonly counter: WindowCounter;

  constructor(
    readonly limits: RefusalLimits,
    private readonly onCrossed: (caller: Caller, limits: RefusalLimits) => Promise<void> = recordCrossing,
  ) {
    this.counter = new WindowCounter("console-refusals", limits.perUser + 1, limits.windowSeconds);
  }

  /** Seconds until `userId` may act again, or 0 when they may now. */
  blockedFor(userId: string): Promise<number> {
    return this.counter.blockedFor(userId);
  }

  /** Counts one refusal of `caller`'s; the first one over the limit is recorded. */
  async refused(caller: Caller): Promise<void> {
    if ((await this.counter.count(caller.userId)).crossed) await this.onCrossed(caller, this.limits);
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
