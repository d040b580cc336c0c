// What can go wrong when Custody uses a customer's KMS key, as distinct kinds the console and
// the key service can act on. Messages are for people: they say what is wrong and what to do,
// and never include the provider's raw error text.

export type KmsErrorKind =
  /** The customer's side refused: no key-policy statement or grant allows the call. */
  | "access_denied"
  /** The customer's side refused with an explicit Deny (key policy, or a resource control policy). */
  | "access_denied_explicit"
  /** The vendor's side refused: Custody's own role has no IAM policy allowing the call (or one denies it). */
  | "access_denied_vendor"
  | "credentials"
  | "key_disabled"
  | "invalid_state"
  | "not_found"
  /** RetireGrant / RevokeGrant: the grant is not on the key (already retired, revoked, or a wrong id). */
  | "grant_not_found"
  | "invalid_ciphertext"
  | "incorrect_key"
  | "throttled"
  /** An account quota (LimitExceededException), e.g. too many grants on the key: waiting does not help. */
  | "quota"
  | "unreachable"
  /** Something between Custody and KMS answered, but not as KMS (an HTML page from a proxy or VPC endpoint). */
  | "bad_response"
  | "invalid_request";

/** Failures that are the vendor's to fix (Custody's own role, its credentials, the path to KMS), not the customer's. */
export const VENDOR_SIDE_ERROR_KINDS: readonly KmsErrorKind[] = ["access_denied_vendor", "credentials", "bad_response"];

export type KmsOperation = "DescribeKey" | "GenerateDataKey" | "Decrypt" | "CreateGrant" | "ListGrants" | "RetireGrant" | "RevokeGrant";

const MESSAGES: Record<KmsErrorKind, (operation: KmsOperation) => string> = {
  access_denied: (op) =>
    `Your key policy (or grant) does not allow Custody's AWS principal to call kms:${op} for this tenant. Add the key-policy statements (or create the grant) Custody shows, then verify again.`,
  access_denied_explicit: (op) =>
    `A Deny statement on your side (the key policy, or a resource control policy) refuses Custody's AWS principal kms:${op}. Remove or narrow that statement, then verify again.`,
  access_denied_vendor: (op) =>
    `The vendor's own AWS role lacks an IAM policy for kms:${op}. This is on the vendor, not on your key: the vendor has been told, and there is nothing to change on your side.`,
  credentials: () =>
    "The vendor's AWS credentials were not accepted (by KMS, or by STS when Custody assumes its role). This is a configuration problem on the vendor's side, not the key's.",
  key_disabled: () => "The key is disabled in KMS. Enable it in the AWS console (or with aws kms enable-key), then verify again.",
  invalid_state: () =>
    "The key cannot be used in its current state (for example, it is scheduled for deletion). Cancel the deletion and enable the key, then verify again.",
  not_found: () =>
    "KMS has no such key, or the key is in another region or account than the ARN says. Check the ARN and that the key still exists.",
  grant_not_found: () =>
    "KMS has no such grant on this key: it was already retired or revoked, or the grant id is not one of this key's grants.",
  invalid_ciphertext: () =>
    "KMS could not decrypt: the wrapped key is damaged or belongs to another key or tenant.",
  incorrect_key: () => "The wrapped key was made with a different KMS key than the one given.",
  throttled: () => "KMS is throttling requests right now. Try again in a moment.",
  quota: (op) =>
    op === "CreateGrant"
      ? "An AWS KMS quota was reached (for example, the key has the most grants AWS allows). Waiting will not help: retire grants you no longer need, or ask AWS for a higher quota."
      : "An AWS KMS quota was reached on the key's account. Waiting will not help: ask AWS for a higher quota, or reduce other use of the account's keys.",
  unreachable: () => "Custody could not reach KMS (network error or timeout). Try again; if it persists, check connectivity to KMS.",
  bad_response: () =>
    "Something between Custody and KMS (a proxy, firewall or VPC endpoint) answered instead of KMS. The vendor should check the network path to KMS.",
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
  // Custody could not assume its own role (lib/kms/aws-credentials.ts): the vendor's trust policy or external id.
  AssumeRoleError: "credentials",
  // Raised by the SDK itself when no credentials can be found (the default chain came up empty).
  CredentialsProviderError: "credentials",
  TokenProviderError: "credentials",
  InvalidClientTokenId: "credentials",
  MissingAuthenticationToken: "credentials",
  MissingAuthenticationTokenException: "credentials",
  IncompleteSignatureException: "credentials",
  DisabledException: "key_disabled",
  KMSInvalidStateException: "invalid_state",
  NotFoundException: "not_found",
  InvalidCiphertextException: "invalid_ciphertext",
  IncorrectKeyException: "incorrect_key",
  InvalidKeyUsageException: "invalid_request",
  ThrottlingException: "throttled",
  TooManyRequestsException: "throttled",
  RequestLimitExceeded: "throttled",
  LimitExceededException: "quota",
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

/**
 * Which side of a cross-account call refused, from AWS's AccessDeniedException message (only
 * read here, never shown): "… because no identity-based policy allows the kms:Decrypt action",
 * "… with an explicit deny in a resource-based policy", and the like. Identity-based, session
 * service control and VPC endpoint policies belong to the caller (the vendor's account and
 * network); resource-based
 * policies (the key policy) and resource control policies to the key's owner.
 */
export function accessDeniedSide(message: string | undefined): "access_denied" | "access_denied_explicit" | "access_denied_vendor" {
  const text = message ?? "";
  if (/(?:no|explicit deny in an?) (?:identity-based|session|service control|permissions boundary|VPC endpoint) polic/i.test(text)) return "access_denied_vendor";
  if (/explicit deny in an? (?:resource-based|resource control) polic/i.test(text)) return "access_denied_explicit";
  return "access_denied";
}

/** Maps whatever the AWS SDK threw to a KmsError. */
export function toKmsError(error: unknown, operation: KmsOperation): KmsError {
  if (isKmsError(error)) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: unknown } | undefined;
  const name = e?.name ?? "UnknownError";
  const status = e?.$metadata?.httpStatusCode;
  if (name === "AccessDeniedException") return new KmsError(accessDeniedSide(e?.message), operation, name);
  const message = e?.message ?? "";
  if (name === "NotFoundException" && (operation === "RetireGrant" || operation === "RevokeGrant") && (/grant/i.test(message) || !/key/i.test(message))) {
    return new KmsError("grant_not_found", operation, name);
  }
  const kind = BY_AWS_NAME[name];
  if (kind) return new KmsError(kind, operation, name);
  if ((e?.code && NETWORK_CODES.has(e.code)) || name === "AbortError") return new KmsError("unreachable", operation, e?.code ?? name);
  if (status !== undefined && status >= 500) return new KmsError("unreachable", operation, name);
  if (status === undefined) return new KmsError("unreachable", operation, name);
  // A 4xx the SDK could not read as a KMS error (no __type, not JSON: an HTML page from a proxy,
  // firewall or VPC endpoint policy) is not KMS judging the request.
  if (name === "UnknownError" || name === "Error" || name === "SyntaxError" || /^\d+$/.test(name) || e?.$response !== undefined) {
    return new KmsError("bad_response", operation, `HTTP${status}`);
  }
  return new KmsError("invalid_request", operation, name);
}
