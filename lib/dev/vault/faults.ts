import { VaultHttpError } from "./errors";

// Fault injection for tests of Vault clients, driven from the handle startDevVault returns (in
// the same process, never over HTTP): the next requests fail with a status (429 as a rate-limit
// quota does, 5xx as an overloaded or failing Vault), or are slowed down. Sealing is the
// server's own state (DevVault.seal). Faults apply after sealing and before authentication.

export type DevVaultFaults = {
  /** The next `n` requests (whose path starts with `pathPrefix`, when given) fail with `status`. */
  failNext(n: number, status: 429 | 500 | 502 | 503 | 504, pathPrefix?: string): void;
  /** The next `n` requests (default 1) wait `ms` milliseconds before they are handled. */
  delayNext(ms: number, n?: number): void;
  reset(): void;
};

type FailRule = { remaining: number; status: number; pathPrefix?: string };

const MESSAGES: Record<number, (path: string) => string> = {
  429: (path) => `request path "${path}": rate limit quota exceeded`,
  500: () => "internal error",
  502: () => "bad gateway",
  503: () => "service unavailable",
  504: () => "context deadline exceeded",
};

export class VaultFaultInjector implements DevVaultFaults {
  private failures: FailRule[] = [];
  private delays: { remaining: number; ms: number }[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  failNext(n: number, status: 429 | 500 | 502 | 503 | 504, pathPrefix?: string): void {
    if (!Number.isInteger(n) || n < 0) throw new Error("failNext: n must be a whole number >= 0");
    if (n > 0) this.failures.push({ remaining: n, status, pathPrefix });
  }

  delayNext(ms: number, n = 1): void {
    if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(n) || n < 0) throw new Error("delayNext: ms and n must be >= 0");
    if (n > 0 && ms > 0) this.delays.push({ remaining: n, ms });
  }

  reset(): void {
    this.failures = [];
    this.delays = [];
  }

  async apply(path: string): Promise<void> {
    const delay = this.delays[0];
    if (delay) {
      if (--delay.remaining === 0) this.delays.shift();
      await new Promise<void>((resolve) => {
        const pending = { timer: setTimeout(() => (this.timers.delete(pending), resolve()), delay.ms), resolve };
        this.timers.add(pending);
      });
    }
    const rule = this.failures.find((r) => r.pathPrefix === undefined || path.startsWith(r.pathPrefix));
    if (rule) {
      if (--rule.remaining === 0) this.failures.splice(this.failures.indexOf(rule), 1);
      throw new VaultHttpError(rule.status, [MESSAGES[rule.status]!(path)]);
    }
  }

  cancelDelays(): void {
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.timers.clear();
  }
}
