import { throttled, unavailable, type KeyVaultError } from "./errors";

// Fault injection for tests: the next Key Vault requests are throttled (429 with Retry-After),
// fail with 503, or are slowed. Driven from the handle startDevAzureKv returns, in the same
// process, never over HTTP. Faults apply to authenticated Key Vault requests, before they run.

export type DevAzureKvFaults = {
  /** The next `n` requests answer 429 Throttled with `Retry-After: retryAfterSeconds` (default 1). */
  throttleNext(n: number, retryAfterSeconds?: number): void;
  /** The next `n` requests answer 503 ServiceUnavailable. */
  failNext(n: number): void;
  /** The next `n` requests (default 1) wait `ms` milliseconds first. */
  delayNext(ms: number, n?: number): void;
  reset(): void;
};

type Rule = { remaining: number; error: () => KeyVaultError };

export class AzureFaults implements DevAzureKvFaults {
  private rules: Rule[] = [];
  private delays: { remaining: number; ms: number }[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  throttleNext(n: number, retryAfterSeconds = 1): void {
    if (n > 0) this.rules.push({ remaining: n, error: () => throttled(retryAfterSeconds) });
  }

  failNext(n: number): void {
    if (n > 0) this.rules.push({ remaining: n, error: unavailable });
  }

  delayNext(ms: number, n = 1): void {
    if (n > 0 && ms > 0) this.delays.push({ remaining: n, ms });
  }

  reset(): void {
    this.rules = [];
    this.delays = [];
  }

  async apply(): Promise<void> {
    const delay = this.delays[0];
    if (delay) {
      if (--delay.remaining === 0) this.delays.shift();
      await new Promise<void>((resolve) => {
        const pending = { timer: setTimeout(() => { this.timers.delete(pending); resolve(); }, delay.ms), resolve };
        this.timers.add(pending);
      });
    }
    const rule = this.rules[0];
    if (rule) {
      if (--rule.remaining === 0) this.rules.shift();
      throw rule.error();
    }
  }

  /** Ends pending delays at once, so closing the server is not held up. */
  cancelDelays(): void {
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.timers.clear();
  }
}
