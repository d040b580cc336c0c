// The fault injection the development servers offer their tests, driven in-process from each
// server's handle, never over HTTP: the next `n` requests (of a scope, when a rule names one)
// fail with an error in the server's own protocol, or wait first. Each server's injector
// (gcp-kms, azure-kv, vault) names its faults on top of this queue.

type Rule<E> = { remaining: number; error: (scope: string) => E; applies?: (scope: string) => boolean };

export class FaultQueue<E extends Error> {
  private rules: Rule<E>[] = [];
  private delays: Array<{ remaining: number; ms: number }> = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  /** The next `n` requests (those `applies` accepts, when given) fail with `error(scope)`. */
  protected enqueue(n: number, error: (scope: string) => E, applies?: (scope: string) => boolean): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("n must be a whole number >= 0");
    if (n > 0) this.rules.push({ remaining: n, error, applies });
  }

  /** The next `n` requests (default 1) wait `ms` milliseconds before they are handled. */
  delayNext(ms: number, n = 1): void {
    if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(n) || n < 0) throw new Error("delayNext: ms >= 0 and a whole n >= 0");
    if (n > 0 && ms > 0) this.delays.push({ remaining: n, ms });
  }

  reset(): void {
    this.rules = [];
    this.delays = [];
  }

  /** Applies the pending faults to one request (its scope: a path, an operation): waits, then throws the first rule's error. */
  async apply(scope = ""): Promise<void> {
    const delay = this.delays[0];
    if (delay) {
      if (--delay.remaining === 0) this.delays.shift();
      await this.sleep(delay.ms);
    }
    const rule = this.rules.find((r) => r.applies === undefined || r.applies(scope));
    if (!rule) return;
    if (--rule.remaining === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    throw rule.error(scope);
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
      const pending = {
        timer: setTimeout(() => {
          this.timers.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(pending);
    });
  }
}
