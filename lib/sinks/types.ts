import type { ExportRecord } from "@/lib/audit/export/export-format";

// The contract between the log-sink outbox (which events go to which sink, in order, retried)
// and the transports (how one batch reaches one receiver). Issue 6; see ARCHITECTURE.md.

/**
 * One audit event as every sink receives it: the hashed fields under their chain names, as the
 * JSON Lines export writes them (so a receiver can re-hash it), plus `id` = `<chain>:<seq>`,
 * stable across retries, so receivers can deduplicate.
 */
export type SinkEvent = ExportRecord & { id: string };

export type WebhookSinkConfig = {
  kind: "webhook";
  url: string;
  secret: string;
  /** PEM CA certificate(s) to trust for HTTPS, in addition to the system's; absent/null: system only. */
  caCertificate?: string | null;
};

export type SyslogSinkConfig = {
  kind: "syslog";
  host: string;
  port: number;
  transport: "tcp" | "tls";
  /** PEM CA certificate(s) to trust for TLS, in addition to the system's; null: system only. */
  caCertificate: string | null;
  /** RFC 5424 facility number, 0–23 (default 13, log audit). */
  facility: number;
  /** RFC 5424 APP-NAME (printable US-ASCII, at most 48). */
  appName: string;
};

export type SplunkHecSinkConfig = {
  kind: "splunk_hec";
  /** The HEC endpoint base, e.g. https://splunk.example:8088 (the collector path is added). */
  url: string;
  token: string;
  index: string | null;
  sourcetype: string;
  /** PEM CA certificate(s) to trust for HTTPS (Splunk's default HEC certificate is self-signed); absent/null: system only. */
  caCertificate?: string | null;
};

/** A sink's full configuration, secrets decrypted: only ever held in memory by the worker. */
export type SinkConfig = WebhookSinkConfig | SyslogSinkConfig | SplunkHecSinkConfig;

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

/** Sends one batch (in order) to one sink; resolves once the receiver has accepted all of it. */
export type SinkTransport = (config: SinkConfig, events: SinkEvent[], options: TransportOptions) => Promise<void>;
