// The built-in data-plane roles of Key Vault (Azure RBAC) and Managed HSM (local RBAC) that
// concern keys, with the key operations each allows, and the legacy access-policy permissions.
// Custody needs get, wrapKey and unwrapKey: exactly "… Crypto Service Encryption User".

export type KeyOperation = "get" | "wrapKey" | "unwrapKey";

export type VaultKind = "vault" | "managedhsm";

const ALL: readonly KeyOperation[] = ["get", "wrapKey", "unwrapKey"];

export const ROLES: Record<string, { kind: VaultKind; operations: readonly KeyOperation[] }> = {
  "Key Vault Administrator": { kind: "vault", operations: ALL },
  "Key Vault Crypto Officer": { kind: "vault", operations: ALL },
  "Key Vault Crypto User": { kind: "vault", operations: ALL },
  "Key Vault Crypto Service Encryption User": { kind: "vault", operations: ALL },
  "Key Vault Reader": { kind: "vault", operations: ["get"] },
  "Managed HSM Administrator": { kind: "managedhsm", operations: [] },
  "Managed HSM Crypto Officer": { kind: "managedhsm", operations: ["get"] },
  "Managed HSM Crypto User": { kind: "managedhsm", operations: ALL },
  "Managed HSM Crypto Service Encryption User": { kind: "managedhsm", operations: ALL },
};

/** The RBAC data action Azure names in a 403 for each operation. */
export function dataAction(kind: VaultKind, operation: KeyOperation): string {
  const base = kind === "vault" ? "Microsoft.KeyVault/vaults/keys" : "Microsoft.KeyVault/managedHsm/keys";
  const verb = operation === "get" ? (kind === "vault" ? "read" : "read/action") : operation === "wrapKey" ? "wrap/action" : "unwrap/action";
  return `${base}/${verb}`;
}
