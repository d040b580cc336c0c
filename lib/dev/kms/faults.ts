import { internalError, throttled } from "./errors";

// Fault injection for tests of KMS clients: throttle, slow down or cut the next requests. It is
// driven from the handle startDevKms returns, in the same process, never over HTTP, so no
// caller of the server can switch it on. Faults apply to authenticated requests, after the
// operation is known and before it runs (as KMS's request-rate quotas do).

export type DevKmsFaults = {
  /** The next `n` requests (of `operation` only, when given) fail with ThrottlingException. */
  throttleNext(n: number, operation?: string): void;
  /** The next `n` requests (of `operation` only, when given) fail with KMSInternalException (HTTP 500). */
  failNext(n: number, operation?: string): void;
  /** The next `n` requests (default 1) wait `ms` milliseconds before they are handled. */
  delayNext(ms: number, n?: number): void;
  /**
   * The next `n` requests (of `operation` only, when given) get no answer: their connection is
   * reset (TCP RST), as a load balancer or a network failure in front of KMS does.
   */
  resetNext(n: number, operation?: string): void;
  /**
   * From now on, requests beyond `requestsPerSecond` in any one-second window fail with
   * ThrottlingException (a quota, as KMS enforces); undefined lifts the limit.
   */
  limitRate(requestsPerSecond: number | undefined): void;
  /** Forgets every pending fault and lifts the rate limit. */
  reset(): void;
};

/** The next `remaining` requests (of `operation` only, when given). */
type CountRule = { remaining: number; operation?: string };
type DelayRule = { remaining: number; ms: number };

/** A request whose connection a fault has reset: the server sends nothing more. */
export class ConnectionResetFault extends Error {
  constructor() {
    super("the dev KMS reset this connection (injected fault)");
    this.name = "ConnectionResetFault";
  }
}

/** What a fault needs of the request's connection. */
export type FaultConnection = { resetAndDestroy(): unknown };

export class FaultInjector implements DevKmsFaults {
  private throttles: CountRule[] = [];
  private resets: CountRule[] = [];
  private failures: CountRule[] = [];
  private delays: DelayRule[] = [];
  private rateLimit: number | undefined;
  /** Times (ms) of the requests admitted in the last second, oldest first, while a rate limit is set. */
  private admitted: number[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  throttleNext(n: number, operation?: string): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("throttleNext: n must be a whole number >= 0");
    if (n > 0) this.throttles.push({ remaining: n, operation });
  }

  resetNext(n: number, operation?: string): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("resetNext: n must be a whole number >= 0");
    if (n > 0) this.resets.push({ remaining: n, operation });
  }

  failNext(n: number, operation?: string): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("failNext: n must be a whole number >= 0");
    if (n > 0) this.failures.push({ remaining: n, operation });
  }

  delayNext(ms: number, n = 1): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error("delayNext: ms must be >= 0");
    if (!Number.isInteger(n) || n < 0) throw new Error("delayNext: n must be a whole number >= 0");
    if (n > 0 && ms > 0) this.delays.push({ remaining: n, ms });
  }

  limitRate(requestsPerSecond: number | undefined): void {
    if (requestsPerSecond !== undefined && (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 0)) {
      throw new Error("limitRate: requestsPerSecond must be a whole number >= 0");
    }
    this.rateLimit = requestsPerSecond;
    this.admitted = [];
  }

  reset(): void {
    this.throttles = [];
    this.resets = [];
    this.failures = [];
    this.delays = [];
    this.limitRate(undefined);
  }

  /**
   * Applies the pending faults to one request: throws ThrottlingException when it is
   * throttled, and ConnectionResetFault once it has reset the request's connection.
   */
  async apply(operation: string, connection: FaultConnection): Promise<void> {
    const delay = this.delays[0];
    if (delay) {
      if (--delay.remaining === 0) this.delays.shift();
      await this.sleep(delay.ms);
    }
    if (take(this.resets, operation)) {
      connection.resetAndDestroy();
      throw new ConnectionResetFault();
    }
    if (take(this.throttles, operation)) throw throttled();
    if (take(this.failures, operation)) throw internalError();
    if (this.rateLimit !== undefined) {
      const now = Date.now();
      while (this.admitted.length > 0 && this.admitted[0]! <= now - 1000) this.admitted.shift();
      // Refused requests do not count against the quota, as with a token bucket.
      if (this.admitted.length >= this.rateLimit) throw throttled();
      this.admitted.push(now);
    }
  }

  /** Ends pending delays at once, so that closing the server is not held up by them. */
  cancelDelays(): void {
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.timers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = { timer: setTimeout(() => {
        this.timers.delete(pending);
        resolve();
      }, ms), resolve };
      this.timers.add(pending);
    });
  }
}

/** Uses up one request of the first rule that applies to `operation`; whether there was one. */
function take(rules: CountRule[], operation: string): boolean {
  const rule = rules.find((r) => r.operation === undefined || r.operation === operation);
  if (!rule) return false;
  if (--rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
  return true;
}
