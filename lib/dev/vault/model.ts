// The development Vault's state: everything it keeps, by namespace ("" is the root namespace).
// Plain JSON-able records, so the store can persist them as one document. Secrets (key
// material, token and secret-id values) are kept only as the store's encrypted document;
// tokens and secret ids are indexed by their SHA-256, never by their value.

export type KeyVersion = { /** 32 bytes, base64. */ material: string; createdAt: number };

export type TransitKey = {
  name: string;
  type: "aes256-gcm96";
  derived: boolean;
  deletionAllowed: boolean;
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  /** OpenBao's soft delete: kept, but refused for every operation until restored. */
  softDeleted?: boolean;
  versions: Record<string, KeyVersion>;
};

export type TransitMount = { type: "transit"; keys: Record<string, TransitKey> };

export type SecretIdRecord = { accessor: string; createdAt: number; /** epoch ms; null: never expires. */ expiresAt: number | null };

export type AppRoleRecord = {
  name: string;
  roleId: string;
  tokenPolicies: string[];
  /** Seconds a login's token lives (0: the server's default). */
  tokenTtl: number;
  secretIdTtl: number;
  /** sha256(secret id) → record. */
  secretIds: Record<string, SecretIdRecord>;
};

export type TokenRecord = {
  accessor: string;
  policies: string[];
  createdAt: number;
  /** Seconds; 0 means no expiry (the root token). */
  ttl: number;
  displayName: string;
  path: string;
  meta: Record<string, string> | null;
};

export type NamespaceState = {
  mounts: Record<string, TransitMount>;
  /** Policy name → its HCL text (parsed when used; checked when written). */
  policies: Record<string, string>;
  approle: { enabled: boolean; roles: Record<string, AppRoleRecord> };
  /** sha256(token) → record. */
  tokens: Record<string, TokenRecord>;
};

export type VaultState = { namespaces: Record<string, NamespaceState> };

export function emptyNamespace(): NamespaceState {
  return { mounts: {}, policies: {}, approle: { enabled: false, roles: {} }, tokens: {} };
}

export function emptyState(): VaultState {
  return { namespaces: { "": emptyNamespace() } };
}
