import { GoogleApiError } from "./errors";

// Fault injection for tests of Cloud KMS clients, driven in-process from the handle
// startDevGcpKms returns (never over HTTP): the next requests are throttled (429
// RESOURCE_EXHAUSTED, a quota), fail as unavailable (503 UNAVAILABLE), or are slow. Faults
// apply to authenticated API requests, before they run.

export type DevGcpKmsFaults = {
  /** The next `n` requests fail with 429 RESOURCE_EXHAUSTED. */
  throttleNext(n: number): void;
  /** The next `n` requests fail with 503 UNAVAILABLE. */
  unavailableNext(n: number): void;
  /** The next `n` requests (default 1) wait `ms` milliseconds before they are handled. */
  delayNext(ms: number, n?: number): void;
  reset(): void;
};

export class GcpFaultInjector implements DevGcpKmsFaults {
  private queue: { remaining: number; error: () => GoogleApiError }[] = [];
  private delays: { remaining: number; ms: number }[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  throttleNext(n: number): void {
    this.push(n, () => new GoogleApiError("RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute'."));
  }

  unavailableNext(n: number): void {
    this.push(n, () => new GoogleApiError("UNAVAILABLE", "The service is currently unavailable."));
  }

  delayNext(ms: number, n = 1): void {
    if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(n) || n < 0) throw new Error("delayNext: ms >= 0 and a whole n >= 0");
    if (n > 0 && ms > 0) this.delays.push({ remaining: n, ms });
  }

  reset(): void {
    this.queue = [];
    this.delays = [];
  }

  private push(n: number, error: () => GoogleApiError): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("n must be a whole number >= 0");
    if (n > 0) this.queue.push({ remaining: n, error });
  }

  async apply(): Promise<void> {
    const delay = this.delays[0];
    if (delay) {
      if (--delay.remaining === 0) this.delays.shift();
      await this.sleep(delay.ms);
    }
    const fault = this.queue[0];
    if (fault) {
      if (--fault.remaining === 0) this.queue.shift();
      throw fault.error();
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
