// Typed errors of the Custody SDK. Everything the client throws on purpose is a CustodyError
// whose `code` is either the key service's own code or one of the client-side codes below.

/** The codes the key service answers with (the `error.code` of its error bodies). */
export const API_ERROR_CODES = [
  "bad_request",
  "unauthenticated",
  "forbidden",
  "access_revoked",
  "unknown_tenant",
  "not_found",
  "no_key_configured",
  "payload_too_large",
  "rate_limited",
  "invalid_edek",
  "key_version_retired",
  "internal",
  "kms_denied",
  "kms_unreachable",
  "kms_throttled",
  "unavailable",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/**
 * Failures seen by the client itself:
 * - `network`: the connection failed or broke (refused, reset, DNS …);
 * - `timeout`: no complete answer within `timeoutMs`;
 * - `bad_response`: the answer is not what the key service sends (a proxy's error page, a
 *   malformed body, an unknown error code);
 * - `invalid_envelope`: a record envelope is malformed, was altered, or belongs to another
 *   tenant, data label or object (decryptRecord).
 */
export type ClientErrorCode = "network" | "timeout" | "bad_response" | "invalid_envelope";
export type CustodyErrorCode = ApiErrorCode | ClientErrorCode;

/** Codes that mean the key service refused before doing anything; safe to retry any operation. */
export const REFUSED_BEFORE_ACTING: readonly ApiErrorCode[] = ["kms_unreachable", "kms_throttled", "unavailable"];

const TRANSIENT = new Set<CustodyErrorCode>([...REFUSED_BEFORE_ACTING, "network", "timeout"]);

export type CustodyErrorDetails = {
  /** HTTP status of the answer; undefined when there was none (client-side failures, batch items). */
  status?: number;
  /** The key service's `X-Request-Id` for the call, to quote to the operator or find the audit event. */
  requestId?: string;
  /** How long the key service asked the caller to wait (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** How many HTTP attempts the client made before giving up. */
  attempts?: number;
  /** Overrides the default: transient codes are retryable. */
  retryable?: boolean;
  cause?: unknown;
};

export class CustodyError extends Error {
  readonly code: CustodyErrorCode;
  readonly status: number | undefined;
  /**
   * The failure is transient: the same call may succeed later. The client has already retried
   * where that is safe; a wrap that failed on the network was not retried (see the README).
   */
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number;

  constructor(code: CustodyErrorCode, message: string, details: CustodyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "CustodyError";
    this.code = code;
    this.status = details.status;
    this.retryable = details.retryable ?? TRANSIENT.has(code);
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 1;
  }
}

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === "string" && (API_ERROR_CODES as readonly string[]).includes(value);
}

/** True when `error` is a CustodyError, optionally with the given code. */
export function isCustodyError(error: unknown, code?: CustodyErrorCode): error is CustodyError {
  return error instanceof CustodyError && (code === undefined || error.code === code);
}
