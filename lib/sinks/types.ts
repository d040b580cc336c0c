import type { ExportRecord } from "@/lib/audit/export-format";
import type { SinkConfigBase } from "./kinds/definition";

// The contract between the log-sink outbox (which events go to which sink, in order, retried)
// and the transports (how one batch reaches one receiver). Issue 6; see ARCHITECTURE.md.

/**
 * One audit event as every sink receives it: the hashed fields under their chain names, as the
 * JSON Lines export writes them (so a receiver can re-hash it), plus `id` = `<chain>:<seq>`,
 * stable across retries, so receivers can deduplicate.
 */
export type SinkEvent = ExportRecord & { id: string };

/** A sink's full configuration, secrets decrypted: only ever held in memory by the worker. */
export type { SinkConfig } from "./kinds";

export type TransportOptions = {
  signal?: AbortSignal;
  /** Connect plus send, per batch. */
  timeoutMs?: number;
  /** Whether private, loopback and link-local addresses may be reached (the SSRF guard). */
  allowPrivateTargets: boolean;
  /** Whether webhook and HEC URLs may be plain http:// (default: as allowPrivateTargets). */
  allowHttp?: boolean;
};

/**
 * A delivery failure, in words safe to show the tenant and to log (no secrets, no raw stack):
 * `retryable` false means retrying the same batch cannot succeed (e.g. 400 from the receiver,
 * a refused token), so the outbox marks it failed at once rather than backing off.
 */
export class SinkDeliveryError extends Error {
  readonly retryable: boolean;
  /** The receiver refused the batch for its size (HTTP 413): a smaller batch may go through. */
  readonly tooLarge: boolean;
  constructor(message: string, retryable: boolean, options: { tooLarge?: boolean } = {}) {
    super(message);
    this.name = "SinkDeliveryError";
    this.retryable = retryable;
    this.tooLarge = options.tooLarge ?? false;
  }
}

/** Sends one batch (in order) to one sink of any kind; resolves once the receiver has accepted all of it. */
export type SinkTransport = (config: SinkConfigBase, events: SinkEvent[], options: TransportOptions) => Promise<void>;
