import { SinkDeliveryError } from "../types";

// Socket and TLS failures in words a tenant admin can act on. All are retryable: the receiver
// being down, slow, or mid-way through a certificate renewal is what backoff is for, and the
// outbox marks the delivery failed (and retryable by hand) once it is too old.

const TLS_UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

/** `where` is "host:port" as the tenant configured it. */
export function networkError(error: unknown, where: string): SinkDeliveryError {
  if (error instanceof SinkDeliveryError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const message = (() => {
    switch (code) {
      case "ECONNREFUSED":
        return `${where} refused the connection (nothing is listening there).`;
      case "ECONNRESET":
      case "EPIPE":
        return `${where} closed the connection before the delivery was complete.`;
      case "ETIMEDOUT":
        return `${where} did not answer in time.`;
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return `${where} is unreachable from Custody's network.`;
      case "CERT_HAS_EXPIRED":
        return `${where}'s TLS certificate has expired.`;
      case "CERT_NOT_YET_VALID":
        return `${where}'s TLS certificate is not valid yet.`;
      case "ERR_TLS_CERT_ALTNAME_INVALID":
        return `${where}'s TLS certificate is not issued for that host name.`;
      case "EPROTO":
      case "ERR_SSL_WRONG_VERSION_NUMBER":
        return `The TLS handshake with ${where} failed (is that port serving TLS?).`;
      default:
        if (TLS_UNTRUSTED.has(code)) {
          return `${where}'s TLS certificate is not signed by a trusted CA; if the receiver uses a private CA, add its certificate to the sink.`;
        }
        if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return `The TLS handshake with ${where} failed (${code}).`;
        return `Could not deliver to ${where}${/^[A-Z][A-Z0-9_]+$/.test(code) ? ` (${code})` : ""}.`;
    }
  })();
  return new SinkDeliveryError(message, true);
}

/** Raised by the deadline timer: the whole delivery (connect, send, answer) took too long. */
export function timeoutError(where: string, timeoutMs: number): SinkDeliveryError {
  return new SinkDeliveryError(`${where} did not complete the delivery within ${Math.round(timeoutMs / 100) / 10} s.`, true);
}

export function abortedError(): SinkDeliveryError {
  return new SinkDeliveryError("The delivery was cancelled (Custody is shutting down); it will be retried.", true);
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `work` (a DNS lookup) bounded by the delivery's deadline: getaddrinfo cannot be cancelled,
 * but a resolver that hangs must not hold the batch past its timeout.
 */
export async function withinDeadline<T>(work: Promise<T>, timeoutMs: number, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(where, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
