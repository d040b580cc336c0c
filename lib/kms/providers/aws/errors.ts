import { isKmsError, KmsError, type KmsErrorKind } from "@/lib/kms/errors";

// AWS KMS's errors as Custody's error kinds, in AWS's words (the key policy, grants, the AWS
// console and CLI). The SDK's raw message is read only to tell which side refused, never shown.

export type AwsKmsOperation = "DescribeKey" | "GenerateDataKey" | "Decrypt" | "Encrypt" | "CreateGrant" | "ListGrants" | "RetireGrant" | "RevokeGrant";

const AWS_MESSAGES: Record<KmsErrorKind, (operation: AwsKmsOperation) => string> = {
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

const BY_AWS_NAME: Record<string, KmsErrorKind> = {
  AccessDeniedException: "access_denied",
  UnrecognizedClientException: "credentials",
  InvalidSignatureException: "credentials",
  ExpiredTokenException: "credentials",
  // Custody could not assume its own role (aws-credentials.ts): the vendor's trust policy or external id.
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
export function toKmsError(error: unknown, operation: AwsKmsOperation): KmsError {
  if (isKmsError(error)) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: unknown } | undefined;
  const name = e?.name ?? "UnknownError";
  const status = e?.$metadata?.httpStatusCode;
  if (name === "AccessDeniedException") return awsKmsError(accessDeniedSide(e?.message), operation, name);
  const message = e?.message ?? "";
  if (name === "NotFoundException" && (operation === "RetireGrant" || operation === "RevokeGrant") && (/grant/i.test(message) || !/key/i.test(message))) {
    return awsKmsError("grant_not_found", operation, name);
  }
  const kind = BY_AWS_NAME[name];
  if (kind) return awsKmsError(kind, operation, name);
  if ((e?.code && NETWORK_CODES.has(e.code)) || name === "AbortError") return awsKmsError("unreachable", operation, e?.code ?? name);
  if (status !== undefined && status >= 500) return awsKmsError("unreachable", operation, name);
  if (status === undefined) return awsKmsError("unreachable", operation, name);
  // A 4xx the SDK could not read as a KMS error (no __type, not JSON: an HTML page from a proxy,
  // firewall or VPC endpoint policy) is not KMS judging the request.
  if (name === "UnknownError" || name === "Error" || name === "SyntaxError" || /^\d+$/.test(name) || e?.$response !== undefined) {
    return awsKmsError("bad_response", operation, `HTTP${status}`);
  }
  return awsKmsError("invalid_request", operation, name);
}

/** A KmsError in AWS's wording. */
export function awsKmsError(kind: KmsErrorKind, operation: AwsKmsOperation, providerCode: string): KmsError {
  return new KmsError(kind, operation, providerCode, AWS_MESSAGES[kind](operation));
}
