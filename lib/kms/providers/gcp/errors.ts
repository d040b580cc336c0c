import { defaultKmsMessage, isKmsError, KmsError, type KmsErrorKind } from "@/lib/kms/errors";

// Cloud KMS failures as Custody's KMS error kinds, with messages in Google Cloud's terms (IAM
// roles, key versions, gcloud). The client library throws GoogleError with a gRPC status
// code; only the code and a few fixed phrases of Cloud KMS's message are read, never shown.

const MESSAGES: Partial<Record<KmsErrorKind, string>> = {
  access_denied:
    "Cloud KMS refused: Custody's service account lacks a role on this key. Run the gcloud commands Custody shows (roles/cloudkms.cryptoKeyEncrypterDecrypter and roles/cloudkms.viewer on the key), then verify again.",
  credentials: "Cloud KMS did not accept the vendor's service-account credentials. This is a configuration problem on the vendor's side, not the key's.",
  key_disabled: "The key's primary version is disabled. Enable it (gcloud kms keys versions enable) or make an enabled version primary, then verify again.",
  invalid_state:
    "The key version is destroyed or scheduled for destruction. Restore it (gcloud kms keys versions restore) and enable it, or make an enabled version primary, then verify again.",
  not_found: "Cloud KMS has no such key. Check the project, location, key ring and key names.",
  invalid_ciphertext: "Cloud KMS could not decrypt: the wrapped key is damaged or belongs to another tenant.",
  incorrect_key: "The wrapped key was made with a different Cloud KMS key than the one given.",
  throttled: "Cloud KMS is throttling requests (a quota was reached). Try again in a moment.",
  unreachable: "Custody could not reach Cloud KMS (network error, timeout or an outage). Try again; if it persists, check connectivity to Cloud KMS.",
  bad_response: "Something between Custody and Cloud KMS answered instead of Cloud KMS. The vendor should check the network path.",
};

/** gRPC status codes (google.rpc.Code). */
const CODE = {
  CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16,
} as const;

/** Codes the client retries (with backoff): throttling and transient failures, as for AWS. */
export const RETRYABLE_CODES: number[] = [CODE.RESOURCE_EXHAUSTED, CODE.UNAVAILABLE, CODE.DEADLINE_EXCEEDED, CODE.INTERNAL];

/** The Cloud KMS methods Custody calls. */
export type GcpOperation = "GetCryptoKey" | "Encrypt" | "Decrypt";

/** A KmsError in Cloud KMS's wording. */
export function gcpKmsError(kind: KmsErrorKind, operation: string, providerCode: string): KmsError {
  return new KmsError(kind, operation, providerCode, MESSAGES[kind] ?? defaultKmsMessage(kind, operation));
}

function kindOf(code: number | undefined, message: string, operation: string): KmsErrorKind {
  switch (code) {
    case CODE.PERMISSION_DENIED:
      return "access_denied";
    case CODE.UNAUTHENTICATED:
      return "credentials";
    case CODE.NOT_FOUND:
      return "not_found";
    case CODE.FAILED_PRECONDITION:
      return /value DISABLED in field/.test(message) ? "key_disabled" : "invalid_state";
    case CODE.INVALID_ARGUMENT:
      if (operation !== "Decrypt") return "invalid_request";
      return /correct CryptoKey/i.test(message) ? "incorrect_key" : "invalid_ciphertext";
    case CODE.RESOURCE_EXHAUSTED:
      return "throttled";
    case CODE.CANCELLED:
    case CODE.DEADLINE_EXCEEDED:
    case CODE.INTERNAL:
    case CODE.UNAVAILABLE:
      return "unreachable";
    default:
      return "bad_response";
  }
}

const CODE_NAMES = new Map<number, string>(Object.entries(CODE).map(([name, value]) => [value, name]));

/** Maps whatever @google-cloud/kms (or google-auth-library, before a request) threw. */
export function toGcpKmsError(error: unknown, operation: string): KmsError {
  if (isKmsError(error)) return error;
  const e = error as { code?: unknown; message?: string } | undefined;
  const message = e?.message ?? "";
  if (typeof e?.code !== "number") {
    // No gRPC code: the auth library could not load or use the credentials, or the network failed.
    if (/credential|private key|client_email|invalid_grant|token/i.test(message)) return gcpKmsError("credentials", operation, "Credentials");
    return gcpKmsError("unreachable", operation, typeof e?.code === "string" ? e.code : "Network");
  }
  return gcpKmsError(kindOf(e.code, message, operation), operation, CODE_NAMES.get(e.code) ?? `Code${e.code}`);
}
