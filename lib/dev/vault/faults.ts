import { FaultQueue } from "../fault-queue";
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

const MESSAGES: Record<number, (path: string) => string> = {
  429: (path) => `request path "${path}": rate limit quota exceeded`,
  500: () => "internal error",
  502: () => "bad gateway",
  503: () => "service unavailable",
  504: () => "context deadline exceeded",
};

export class VaultFaultInjector extends FaultQueue<VaultHttpError> implements DevVaultFaults {
  failNext(n: number, status: 429 | 500 | 502 | 503 | 504, pathPrefix?: string): void {
    const applies = pathPrefix === undefined ? undefined : (path: string) => path.startsWith(pathPrefix);
    this.enqueue(n, (path) => new VaultHttpError(status, [MESSAGES[status]!(path)]), applies);
  }
}
