import type { VaultKeyRef } from "./key-ref";

// What a customer does in their own Vault so Custody may use a transit key for one tenant: the
// key (derived, so each tenant's context gets its own key), a policy granting exactly what
// Custody calls — update on <mount>/encrypt/<key> and <mount>/decrypt/<key>, read on
// <mount>/keys/<key> (the verify step reads the key's type and versions) — and an AppRole
// carrying that policy, whose role id and secret id the customer hands the vendor.

export type VaultInstructionInput = { ref: VaultKeyRef; tenantSlug: string };

export type VaultInstructionBlock = { id: string; title: string; text: string; code: string; language: "hcl" | "shell" };

/** The policy's name in the customer's Vault. */
export function vaultPolicyName(tenantSlug: string): string {
  return `custody-${tenantSlug}`;
}

/** The HCL policy that lets Custody's AppRole wrap and unwrap with exactly this key. */
export function vaultPolicy(ref: VaultKeyRef, tenantSlug: string): string {
  return [
    `# Custody: wrap and unwrap ${tenantSlug}'s tenant key with ${ref.mount}/keys/${ref.key}`,
    `path "${ref.mount}/encrypt/${ref.key}" {`,
    `  capabilities = ["update"]`,
    `}`,
    `path "${ref.mount}/decrypt/${ref.key}" {`,
    `  capabilities = ["update"]`,
    `}`,
    `path "${ref.mount}/keys/${ref.key}" {`,
    `  capabilities = ["read"]`,
    `}`,
    "",
  ].join("\n");
}

export function vaultInstructions({ ref, tenantSlug }: VaultInstructionInput): VaultInstructionBlock[] {
  const policy = vaultPolicyName(tenantSlug);
  const role = `custody-${tenantSlug}`;
  const environment = [`export VAULT_ADDR=${ref.address}`, ...(ref.namespace ? [`export VAULT_NAMESPACE=${ref.namespace}`] : [])];
  return [
    {
      id: "vault-key",
      title: "1. The transit key",
      text: `If the key does not exist yet, create it as a derived aes256-gcm96 key: Custody sends the tenant's id as the derivation context, so each tenant is wrapped under its own derived key. (Skip this if ${ref.mount} is already a transit mount holding ${ref.key}.)`,
      code: [...environment, `vault secrets enable -path=${ref.mount} transit`, `vault write ${ref.mount}/keys/${ref.key} type=aes256-gcm96 derived=true`].join("\n"),
      language: "shell",
    },
    {
      id: "vault-policy",
      title: "2. The policy",
      text: `Save this as ${policy}.hcl. It allows exactly the calls Custody makes: encrypt and decrypt with this key, and reading the key's versions.`,
      code: vaultPolicy(ref, tenantSlug),
      language: "hcl",
    },
    {
      id: "vault-approle",
      title: "3. Custody's AppRole",
      text: "Write the policy, create an AppRole carrying it, and give its role id and secret id to the vendor over a secure channel: the vendor adds them to Custody's Vault server list for this address. Revoking the secret id (or deleting the role or the policy) withdraws Custody's access at once.",
      code: [
        ...environment,
        `vault policy write ${policy} ${policy}.hcl`,
        `vault auth enable approle    # once per Vault${ref.namespace ? " namespace" : ""}`,
        `vault write auth/approle/role/${role} token_policies=${policy} token_ttl=1h token_max_ttl=4h`,
        `vault read -field=role_id auth/approle/role/${role}/role-id`,
        `vault write -f -field=secret_id auth/approle/role/${role}/secret-id`,
      ].join("\n"),
      language: "shell",
    },
  ];
}
