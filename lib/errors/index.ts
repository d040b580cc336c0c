// One error type for everything Custody refuses on purpose. The message is written for
// the person who sees it; anything else that goes wrong is logged and answered generically.

export const ERROR_STATUS = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  // The key service's refusals (lib/keyservice), each distinct so a caller can act on it.
  unknown_tenant: 404,
  no_key_configured: 409,
  access_revoked: 403,
  invalid_edek: 422,
  key_version_retired: 410,
  kms_denied: 502,
  kms_unreachable: 503,
  kms_throttled: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

// Recognised by a brand, not instanceof: `npm start` loads lib/ in two module copies (see lib/kms/errors.ts).
const APP_ERROR = Symbol.for("custody.AppError");

export class AppError extends Error {
  readonly [APP_ERROR] = true;
  readonly code: ErrorCode;
  readonly fieldErrors?: Record<string, string[]>;

  constructor(code: ErrorCode, message: string, fieldErrors?: Record<string, string[]>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.fieldErrors = fieldErrors;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[APP_ERROR] === true;
}

export const GENERIC_MESSAGE = "Something went wrong on our side. It has been logged; please try again.";
