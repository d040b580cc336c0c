import { isKmsError, KmsError } from "@/lib/kms/errors";
import { VaultNetworkError, type VaultReply } from "./http";

// What Vault's answers mean for Custody, as the KMS error kinds (lib/kms/errors.ts) with
// Vault's own wording: which policy or command fixes it. Vault's raw messages are read here to
// tell cases apart and never shown or logged; `code` is a short, safe label ("HTTP403",
// "sealed", "ETIMEDOUT").

export type VaultErrorKind =
  | "access_denied"
  | "credentials"
  | "key_disabled"
  | "invalid_state"
  | "not_found"
  | "invalid_ciphertext"
  | "throttled"
  | "unreachable"
  | "bad_response"
  | "invalid_request";

/** Vault's operations, as named in messages and logs. */
export type VaultOperation = "transit/encrypt" | "transit/decrypt" | "transit/keys" | "auth/approle/login" | "auth/token/lookup-self";

export class VaultError extends Error {
  constructor(
    readonly kind: VaultErrorKind,
    readonly operation: VaultOperation,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "VaultError";
  }

  /** Worth another attempt within the same call: throttling, a server error, the network. */
  get retryable(): boolean {
    return this.kind === "throttled" || (this.kind === "unreachable" && this.code !== "sealed" && !this.code.startsWith("TLS"));
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;

function messages(op: VaultOperation) {
  return {
    sealed: "Your Vault is sealed, so it cannot encrypt or decrypt. Unseal it (vault operator unseal), then verify again.",
    permission: `Your Vault policy does not give Custody's token the "update" capability on ${op} for this key (or "read" on transit/keys). Attach the policy Custody shows to Custody's AppRole or token, then verify again.`,
    credentials: "Your Vault did not accept the credentials the vendor configured for it (the AppRole's role id and secret id, or the token): they are wrong, expired or revoked. Issue new ones and give them to the vendor.",
    softDeleted: `Your transit key is soft-deleted (OpenBao), so Vault refuses to use it. Restore it (bao write -f <mount>/keys/<key>/soft-delete-restore), then verify again.`,
    notFound: "Your Vault has no such transit key at this mount. Check the address, namespace, mount and key name, and that the key exists.",
    tooOld:
      "Your Vault key's min_decryption_version is above the key version this tenant key was wrapped with, so Vault refuses to decrypt it. Lower min_decryption_version (vault write <mount>/keys/<key>/config min_decryption_version=<version>) to restore access.",
    badCiphertext: "Your Vault could not decrypt the wrapped tenant key: it is damaged, or was made with another key or for another tenant.",
    throttled: "Your Vault is limiting Custody's requests (HTTP 429: a rate-limit quota). Try again in a moment, or raise the quota.",
    server: "Your Vault answered with a server error (HTTP 5xx). Try again; if it persists, check the Vault server.",
    network: "Custody could not reach your Vault (network error or timeout). Try again; if it persists, check the address and that Custody can reach it.",
    tls: "Custody could not make a trusted TLS connection to your Vault: its certificate is not signed by a CA Custody trusts for it, has expired or does not name its address. The vendor configures the CA bundle for your Vault.",
    notVault: "Something other than Vault answered at this address (no Vault JSON). Check the address; the vendor should check the network path.",
    invalid: `Your Vault refused the ${op} request as invalid.`,
  } as const;
}

/** The Vault error for an HTTP answer that is not a success. */
export function vaultReplyError(reply: VaultReply, operation: VaultOperation): VaultError {
  const m = messages(operation);
  const errors = replyErrors(reply);
  const text = errors.join(" ");
  const code = `HTTP${reply.status}`;
  if (!reply.isJson || (errors.length === 0 && reply.status !== 404)) {
    if (reply.status === 429) return new VaultError("throttled", operation, code, m.throttled);
    if (reply.status >= 500) return new VaultError("unreachable", operation, code, m.server);
    return new VaultError("bad_response", operation, code, m.notVault);
  }
  if (reply.status === 503 && /sealed/i.test(text)) return new VaultError("unreachable", operation, "sealed", m.sealed);
  if (reply.status === 429) return new VaultError("throttled", operation, code, m.throttled);
  if (reply.status >= 500) return new VaultError("unreachable", operation, code, m.server);
  if (reply.status === 403) return new VaultError("access_denied", operation, code, m.permission);
  if (reply.status === 404 || /encryption key not found/i.test(text)) return new VaultError("not_found", operation, code, m.notFound);
  if (/soft-deleted key/i.test(text)) return new VaultError("key_disabled", operation, "soft_deleted", m.softDeleted);
  if (/disallowed by policy \(too old\)/i.test(text)) return new VaultError("invalid_state", operation, "min_decryption_version", m.tooOld);
  if (/message authentication failed|invalid ciphertext|version is too new/i.test(text)) return new VaultError("invalid_ciphertext", operation, code, m.badCiphertext);
  if (operation === "auth/approle/login" && reply.status === 400) return new VaultError("credentials", operation, code, m.credentials);
  return new VaultError("invalid_request", operation, code, m.invalid);
}

/** The Vault error for a request that got no answer. */
export function vaultNetworkError(error: unknown, operation: VaultOperation): VaultError {
  const m = messages(operation);
  const code = error instanceof VaultNetworkError ? error.code : "ENETWORK";
  if (TLS_CODES.test(code)) return new VaultError("unreachable", operation, `TLS:${code}`, m.tls);
  return new VaultError("unreachable", operation, code, m.network);
}

/** A refusal of the configured credentials themselves (the token is invalid, the AppRole login failed). */
/** A transit key that is soft-deleted (OpenBao), seen when reading it. */
export function softDeletedError(operation: VaultOperation): VaultError {
  return new VaultError("key_disabled", operation, "soft_deleted", messages(operation).softDeleted);
}

export function credentialsError(operation: VaultOperation, code: string): VaultError {
  return new VaultError("credentials", operation, code, messages(operation).credentials);
}

function replyErrors(reply: VaultReply): string[] {
  const errors = (reply.json as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === "string") : [];
}

/** Custody's KmsError for whatever the Vault client threw, in Vault's words. */
export function toVaultKmsError(error: unknown, operation: string): KmsError {
  if (isKmsError(error)) return error;
  if (error instanceof VaultError) return new KmsError(error.kind, error.operation, error.code, error.message);
  const failure = vaultNetworkError(error, isVaultOperation(operation) ? operation : "transit/encrypt");
  return new KmsError(failure.kind, operation, failure.code, failure.message);
}

const OPERATIONS: readonly string[] = ["transit/encrypt", "transit/decrypt", "transit/keys", "auth/approle/login", "auth/token/lookup-self"];
const isVaultOperation = (value: string): value is VaultOperation => OPERATIONS.includes(value);
