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

/** The provider's name for the call that failed (AWS: "GenerateDataKey"; Vault: "transit/encrypt"), safe to show and log. */
export type KmsOperation = string;

/**
 * Provider-neutral messages, used when a provider gives none (and by provider-independent code:
 * an unwrapped key of the wrong length, a key described as disabled). Each provider's error
 * mapping passes its own wording (naming its console, CLI and access model) to KmsError.
 */
const MESSAGES: Record<KmsErrorKind, (operation: KmsOperation) => string> = {
  access_denied: (op) =>
    `Your key's access policy does not allow Custody to call ${op} for this tenant. Add the access Custody shows for this key, then verify again.`,
  access_denied_explicit: (op) => `A deny rule on your side refuses Custody ${op}. Remove or narrow that rule, then verify again.`,
  access_denied_vendor: (op) =>
    `The vendor's own cloud identity is not allowed to call ${op}. This is on the vendor, not on your key: there is nothing to change on your side.`,
  credentials: () => "The vendor's credentials were not accepted by the KMS. This is a configuration problem on the vendor's side, not the key's.",
  key_disabled: () => "The key is disabled in your KMS. Enable it, then verify again.",
  invalid_state: () => "The key cannot be used in its current state (for example, it is scheduled for deletion). Make it usable again, then verify again.",
  not_found: () => "The KMS has no such key. Check the key reference and that the key still exists.",
  grant_not_found: () => "The KMS has no such grant on this key: it was already removed, or the id is not one of this key's grants.",
  invalid_ciphertext: () => "The KMS could not unwrap: the wrapped key is damaged or belongs to another key or tenant.",
  incorrect_key: () => "The wrapped key was made with a different key than the one given.",
  throttled: () => "The KMS is throttling requests right now. Try again in a moment.",
  quota: () => "A KMS quota was reached. Waiting will not help: raise the quota or reduce other use of the key.",
  unreachable: () => "Custody could not reach the KMS (network error, timeout or a server error). Try again; if it persists, check connectivity to the KMS.",
  bad_response: () => "Something between Custody and the KMS (a proxy or firewall) answered instead of the KMS. The vendor should check the network path.",
  invalid_request: (op) => `The KMS refused the ${op} request as invalid.`,
};

/** The provider-neutral message for a kind (what KmsError says when its provider gave no wording). */
export function defaultKmsMessage(kind: KmsErrorKind, operation: KmsOperation): string {
  return MESSAGES[kind](operation);
}

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
    /** The provider's plain-language wording for this kind (never the provider's raw error text). */
    message: string = MESSAGES[kind](operation),
  ) {
    super(message);
    this.name = "KmsError";
  }
}

/**
 * A key the KMS lets Custody use, but that is not fit for the job (an asymmetric or signing key,
 * a key that hands back a different plaintext). Its message is for the tenant's admins.
 */
export class KeyUnsuitableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyUnsuitableError";
  }
}
