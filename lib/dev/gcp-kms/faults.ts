import { FaultQueue } from "../fault-queue";
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

export class GcpFaultInjector extends FaultQueue<GoogleApiError> implements DevGcpKmsFaults {
  throttleNext(n: number): void {
    this.enqueue(n, () => new GoogleApiError("RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute'."));
  }

  unavailableNext(n: number): void {
    this.enqueue(n, () => new GoogleApiError("UNAVAILABLE", "The service is currently unavailable."));
  }
}
