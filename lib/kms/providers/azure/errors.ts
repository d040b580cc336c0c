import { isKmsError, KmsError, type KmsErrorKind } from "@/lib/kms/errors";

// What the Azure libraries throw, mapped to Custody's KMS error kinds with messages in Azure's
// terms. The provider's own text is read only to classify (an AADSTS code, Key Vault's inner
// error code); it is never shown, logged or audited: the provider code kept is a fixed token.

/** The Key Vault call that failed: get key (describe), wrapKey (new tenant key), unwrapKey. */
export type AzureOperation = "get" | "wrapKey" | "unwrapKey";

const ROLE = "Key Vault Crypto Service Encryption User";

const MESSAGES = {
  ForbiddenByRbac: (op) =>
    `Your vault refused ${op} to Custody's app: no role assignment gives it "${ROLE}" (Managed HSM: "Managed HSM Crypto Service Encryption User") on this key or vault, or the vault's access policies lack get, wrapKey and unwrapKey. Run the command Custody shows, then verify again.`,
  AccessDenied: (op) =>
    `Your vault's access policies do not give Custody's app the key permission ${op}. Add get, wrapKey and unwrapKey for it (az keyvault set-policy), then verify again.`,
  NoServicePrincipal: () =>
    "Custody's app is not in your Microsoft Entra tenant yet: an administrator of your tenant must consent to it (az ad sp create --id <Custody's app id>), then verify again.",
  KeyDisabled: () => "The key is disabled in Key Vault. Enable it (az keyvault key set-attributes --enabled true), then verify again.",
  KeyExpired: () => "The key has expired in Key Vault (its expiration date has passed). Extend it (az keyvault key set-attributes --expires …) or give a newer version, then verify again.",
  KeyNotYetValid: () => "The key is not valid yet in Key Vault (its activation date is in the future). Change the date (az keyvault key set-attributes --not-before …) or wait, then verify again.",
  KeyNotFound: () => "Key Vault has no such key (or version) in this vault. Check the key URL and that the key still exists (az keyvault key show --id …).",
  WrongKeyType: () => "The key cannot wrap keys: use an RSA key (2048 bits or more) in a Key Vault, or an RSA-HSM or oct-HSM (AES-256) key in a Managed HSM, with the wrapKey and unwrapKey operations allowed.",
  Credentials: () => "Microsoft Entra did not accept Custody's own app credentials (or its authority is misconfigured). This is on the vendor's side, not your key's.",
  TokenRejected: () => "Key Vault did not accept Custody's access token. This is on the vendor's side (its app or tenant settings), not your key's.",
  Throttled: () => "Key Vault is throttling requests right now (429). Custody waits as Key Vault asks and retries; try again in a moment.",
  Unreachable: () => "Custody could not reach Key Vault or Microsoft Entra (network error, timeout or a 5xx). Try again; if it persists, the vendor should check connectivity.",
  BadResponse: () => "Something between Custody and Azure (a proxy or firewall) answered instead of Key Vault. The vendor should check the network path.",
  InvalidCiphertext: () => "Key Vault could not unwrap the stored tenant key with this key, or it was wrapped for another tenant.",
  IncorrectKey: () => "The tenant key was wrapped with a different Key Vault key than the one given.",
  BadRequest: (op: AzureOperation) => `Key Vault refused the ${op} request as invalid.`,
} satisfies Record<string, (op: AzureOperation) => string>;

export type AzureErrorCode = keyof typeof MESSAGES;

/** A KmsError in Azure's words; the provider code kept is `Azure.<code>`, never Azure's own text. */
export function azureKmsError(kind: KmsErrorKind, operation: AzureOperation, code: AzureErrorCode): KmsError {
  return new KmsError(kind, operation, `Azure.${code}`, MESSAGES[code](operation));
}

type Thrown = {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { error?: { code?: string; innererror?: { code?: string }; innerError?: { code?: string } } };
  errorResponse?: { error?: string; errorDescription?: string; error_description?: string; errorCodes?: number[] };
};

const NETWORK = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|REQUEST_SEND_ERROR|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/;

/** Maps whatever @azure/identity or @azure/keyvault-keys threw to a KmsError. */
export function toAzureKmsError(error: unknown, operation: AzureOperation): KmsError {
  if (isKmsError(error)) return error;
  const e = (error ?? {}) as Thrown;
  if (e.name === "AuthenticationError" || e.name === "CredentialUnavailableError" || e.name === "AuthenticationRequiredError") return entraError(e, operation);
  if (e.name === "AbortError" || (e.code && NETWORK.test(e.code))) return azureKmsError("unreachable", operation, "Unreachable");
  const status = e.statusCode;
  if (status === undefined) return azureKmsError("unreachable", operation, "Unreachable");
  const inner = e.details?.error?.innererror?.code ?? e.details?.error?.innerError?.code;
  const code = e.details?.error?.code ?? e.code;
  if (status === 429) return azureKmsError("throttled", operation, "Throttled");
  if (status >= 500) return azureKmsError("unreachable", operation, "Unreachable");
  if (!e.details?.error) return azureKmsError("bad_response", operation, "BadResponse");
  if (status === 401) return azureKmsError("credentials", operation, "TokenRejected");
  if (status === 403) return forbidden(inner, operation);
  if (status === 404) return azureKmsError("not_found", operation, "KeyNotFound");
  if (status === 400 && operation === "unwrapKey" && code === "BadParameter") return azureKmsError("invalid_ciphertext", operation, "InvalidCiphertext");
  return azureKmsError("invalid_request", operation, "BadRequest");
}

function forbidden(inner: string | undefined, operation: AzureOperation): KmsError {
  switch (inner) {
    case "KeyDisabled":
      return azureKmsError("key_disabled", operation, "KeyDisabled");
    case "KeyExpired":
      return azureKmsError("invalid_state", operation, "KeyExpired");
    case "KeyNotYetValid":
      return azureKmsError("invalid_state", operation, "KeyNotYetValid");
    case "AccessDenied":
      return azureKmsError("access_denied", operation, "AccessDenied");
    default:
      return azureKmsError("access_denied", operation, "ForbiddenByRbac");
  }
}

function entraError(e: Thrown, operation: AzureOperation): KmsError {
  const text = `${e.errorResponse?.errorDescription ?? e.errorResponse?.error_description ?? ""} ${e.message ?? ""}`;
  const codes = new Set([...(e.errorResponse?.errorCodes ?? []), ...[...text.matchAll(/AADSTS(\d+)/g)].map((m) => Number(m[1]))]);
  // The app has no service principal in the vault's tenant: the customer has not consented yet.
  if (codes.has(700016)) return azureKmsError("access_denied", operation, "NoServicePrincipal");
  if (e.statusCode !== undefined && e.statusCode >= 500) return azureKmsError("unreachable", operation, "Unreachable");
  if (e.statusCode === 429) return azureKmsError("throttled", operation, "Throttled");
  if (codes.size === 0 && (e.statusCode === undefined || /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network|timed? ?out/i.test(text))) {
    return azureKmsError("unreachable", operation, "Unreachable");
  }
  return azureKmsError("credentials", operation, "Credentials");
}
