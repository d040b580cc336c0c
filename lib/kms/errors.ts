// What can go wrong when Custody uses a customer's KMS key, as distinct kinds the console and
// the key service can act on. Messages are for people: they say what is wrong and what to do,
// and never include the provider's raw error text.

export type KmsErrorKind =
  | "access_denied"
  | "credentials"
  | "key_disabled"
  | "invalid_state"
  | "not_found"
  | "invalid_ciphertext"
  | "incorrect_key"
  | "throttled"
  | "unreachable"
  | "invalid_request";

export type KmsOperation =
  | "DescribeKey"
  | "GenerateDataKey"
  | "Decrypt"
  | "ReEncrypt"
  | "CreateGrant"
  | "ListGrants"
  | "RetireGrant"
  | "RevokeGrant";

const MESSAGES: Record<KmsErrorKind, (operation: KmsOperation) => string> = {
  access_denied: (op) =>
    `The key does not allow Custody's AWS principal to call ${op === "ReEncrypt" ? "kms:ReEncryptFrom / kms:ReEncryptTo" : `kms:${op}`}. Add the key-policy statement (or the grant) Custody shows, then verify again.`,
  credentials: () =>
    "The vendor's AWS credentials were not accepted by KMS. This is a configuration problem on the vendor's side, not the key's.",
  key_disabled: () => "The key is disabled in KMS. Enable it in the AWS console (or with aws kms enable-key), then verify again.",
  invalid_state: () =>
    "The key cannot be used in its current state (for example, it is scheduled for deletion). Cancel the deletion and enable the key, then verify again.",
  not_found: () =>
    "KMS has no such key, or the key is in another region or account than the ARN says. Check the ARN and that the key still exists.",
  invalid_ciphertext: () =>
    "KMS could not decrypt: the wrapped key is damaged or belongs to another key or tenant.",
  incorrect_key: () => "The wrapped key was made with a different KMS key than the one given.",
  throttled: () => "KMS is throttling requests right now. Try again in a moment.",
  unreachable: () => "Custody could not reach KMS (network error or timeout). Try again; if it persists, check connectivity to KMS.",
  invalid_request: (op) => `KMS refused the ${op} request as invalid.`,
};

// `npm start` loads lib/ twice (Next's bundle and the key service under tsx) and shares one
// provider between them, so an error may come from the other copy's class: recognise it by a
// brand, not by instanceof.
const KMS_ERROR = Symbol.for("custody.KmsError");

export function isKmsError(error: unknown): error is KmsError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[KMS_ERROR] === true;
}

export class KmsError extends Error {
  readonly [KMS_ERROR] = true;

  constructor(
    readonly kind: KmsErrorKind,
    readonly operation: KmsOperation,
    /** The provider's error name (e.g. "DisabledException"), safe to log; never its message. */
    readonly providerCode: string,
  ) {
    super(MESSAGES[kind](operation));
    this.name = "KmsError";
  }
}

const BY_AWS_NAME: Record<string, KmsErrorKind> = {
  AccessDeniedException: "access_denied",
  UnrecognizedClientException: "credentials",
  InvalidSignatureException: "credentials",
  ExpiredTokenException: "credentials",
  // Raised by the SDK itself when no credentials can be found (the default chain came up empty).
  CredentialsProviderError: "credentials",
  TokenProviderError: "credentials",
  InvalidClientTokenId: "credentials",
  MissingAuthenticationToken: "credentials",
  DisabledException: "key_disabled",
  KMSInvalidStateException: "invalid_state",
  NotFoundException: "not_found",
  InvalidCiphertextException: "invalid_ciphertext",
  IncorrectKeyException: "incorrect_key",
  InvalidKeyUsageException: "invalid_request",
  ThrottlingException: "throttled",
  LimitExceededException: "throttled",
  TooManyRequestsException: "throttled",
  RequestLimitExceeded: "throttled",
  KMSInternalException: "unreachable",
  DependencyTimeoutException: "unreachable",
  KeyUnavailableException: "unreachable",
  TimeoutError: "unreachable",
  RequestTimeout: "unreachable",
  ValidationException: "invalid_request",
  InvalidGrantTokenException: "invalid_request",
  InvalidGrantIdException: "invalid_request",
  InvalidArnException: "invalid_request",
};

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]);

/** Maps whatever the AWS SDK threw to a KmsError. */
export function toKmsError(error: unknown, operation: KmsOperation): KmsError {
  if (isKmsError(error)) return error;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const name = e?.name ?? "UnknownError";
  const kind = BY_AWS_NAME[name];
  if (kind) return new KmsError(kind, operation, name);
  if ((e?.code && NETWORK_CODES.has(e.code)) || name === "AbortError") return new KmsError("unreachable", operation, e?.code ?? name);
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return new KmsError("unreachable", operation, name);
  if (status === undefined) return new KmsError("unreachable", operation, name);
  return new KmsError("invalid_request", operation, name);
}
