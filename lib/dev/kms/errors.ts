// KMS errors as the AWS JSON 1.1 protocol carries them. The SDK (AwsJsonRpcProtocol) takes
// the error code from the body's `__type` first, then a `code` member, then the
// `x-amzn-ErrorType` header, strips any `namespace#` prefix and `:suffix`, and names the
// thrown exception after it; we send both the body member and the header. Every error is
// HTTP 400 except internal failures, as KMS does: status codes >= 500 are retried by the SDK.

export class KmsError extends Error {
  constructor(
    /** The AWS error code, e.g. "NotFoundException"; the SDK's `error.name`. */
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = code;
  }
}

const make = (code: string) => (message: string) => new KmsError(code, message);

export const notFound = make("NotFoundException");
export const alreadyExists = make("AlreadyExistsException");
export const disabled = make("DisabledException");
export const invalidState = make("KMSInvalidStateException");
export const invalidCiphertext = make("InvalidCiphertextException");
export const incorrectKey = make("IncorrectKeyException");
export const invalidKeyUsage = make("InvalidKeyUsageException");
export const invalidGrantToken = make("InvalidGrantTokenException");
export const invalidGrantId = make("InvalidGrantIdException");
export const invalidMarker = make("InvalidMarkerException");
export const invalidAliasName = make("InvalidAliasNameException");
export const malformedPolicy = make("MalformedPolicyDocumentException");
export const tagError = make("TagException");
export const unsupported = make("UnsupportedOperationException");
export const dryRunSucceeded = () =>
  new KmsError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.");
export const accessDenied = make("AccessDeniedException");
export const throttled = () => new KmsError("ThrottlingException", "Rate exceeded");

// Request-level errors raised before an operation runs (authentication and framing).
export const missingAuthentication = () => new KmsError("MissingAuthenticationTokenException", "Missing Authentication Token");
export const incompleteSignature = make("IncompleteSignatureException");
export const unrecognizedClient = () =>
  new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
export const invalidSignature = make("InvalidSignatureException");
export const unknownOperation = make("UnknownOperationException");
export const serialization = make("SerializationException");
export const internalError = () => new KmsError("KMSInternalException", "The request failed because of an internal error.", 500);

/**
 * A `ValidationException` worded the way AWS's request validator words it, e.g.
 * "1 validation error detected: Value '5' at 'pendingWindowInDays' failed to satisfy
 * constraint: Member must have value greater than or equal to 7".
 */
export function validation(field: string, value: unknown, constraint: string): KmsError {
  const shown = value === undefined || value === null ? "null" : `'${describeValue(value)}'`;
  return new KmsError(
    "ValidationException",
    `1 validation error detected: Value ${shown} at '${memberName(field)}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A ValidationException for a rule between members rather than one member's shape. */
export const invalidRequest = make("ValidationException");

/** AWS names members in validation messages with a lower-case first letter. */
function memberName(field: string): string {
  return field
    .split(".")
    .map((part) => part.charAt(0).toLowerCase() + part.slice(1))
    .join(".");
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => String(v)).join(", ")}]`;
  // Blobs are described by size: their bytes may be secret.
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  return String(value);
}
