import { FaultQueue } from "../fault-queue";
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

export class AzureFaults extends FaultQueue<KeyVaultError> implements DevAzureKvFaults {
  throttleNext(n: number, retryAfterSeconds = 1): void {
    this.enqueue(n, () => throttled(retryAfterSeconds));
  }

  failNext(n: number): void {
    this.enqueue(n, unavailable);
  }
}
