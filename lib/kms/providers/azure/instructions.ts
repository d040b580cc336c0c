import type { InstructionBlock } from "@/lib/kms/provider";
import type { AzureKeyRef } from "./key-ref";

// What the customer runs so Custody's app may use their key, and what the vendor sets up once.
// Custody needs get, wrapKey and unwrapKey on the one key: exactly the built-in role "Key Vault
// Crypto Service Encryption User" (Managed HSM: "Managed HSM Crypto Service Encryption User"),
// assigned at the key's scope, or the same three permissions in a legacy access policy.

export const KEY_VAULT_ROLE = "Key Vault Crypto Service Encryption User";
export const MANAGED_HSM_ROLE = "Managed HSM Crypto Service Encryption User";

export function customerInstructions(ref: AzureKeyRef, clientId: string): InstructionBlock[] {
  const consent: InstructionBlock = {
    id: "consent",
    title: "Once: let Custody's app into your Microsoft Entra tenant",
    text: "Custody is one multi-tenant app. An administrator of the tenant your vault belongs to creates its service principal there (admin consent). Skip this if you did it for another key.",
    code: `az ad sp create --id ${clientId}`,
    language: "shell",
  };
  if (ref.kind === "managedhsm") {
    return [
      consent,
      {
        id: "role-assignment",
        title: `Give it "${MANAGED_HSM_ROLE}" on this key`,
        text: "A Managed HSM local role assignment at the key's scope: get, wrapKey and unwrapKey on this key and nothing else.",
        code: `az keyvault role assignment create --hsm-name ${ref.vaultName} --role "${MANAGED_HSM_ROLE}" --assignee ${clientId} --scope /keys/${ref.keyName}`,
        language: "shell",
      },
    ];
  }
  return [
    consent,
    {
      id: "role-assignment",
      title: `Give it "${KEY_VAULT_ROLE}" on this key`,
      text: "An Azure RBAC role assignment at the key's scope (the vault's resource id + /keys/<name>): get, wrapKey and unwrapKey on this key and nothing else.",
      code: `az role assignment create --role "${KEY_VAULT_ROLE}" --assignee ${clientId} \\\n  --scope "$(az keyvault show --name ${ref.vaultName} --query id -o tsv)/keys/${ref.keyName}"`,
      language: "shell",
    },
    {
      id: "access-policy",
      title: "Or, for a vault that uses access policies instead of Azure RBAC",
      text: "The same three key permissions as a vault access policy (they apply to every key in the vault).",
      code: `az keyvault set-policy --name ${ref.vaultName} --spn ${clientId} --key-permissions get wrapKey unwrapKey`,
      language: "shell",
    },
  ];
}

export function vendorInstructions(clientId: string | undefined): InstructionBlock[] {
  return [
    {
      id: "app-registration",
      title: "Custody's Microsoft Entra app",
      text: "One multi-tenant app registration in your own tenant, with a client secret. Set KMS_AZURE_TENANT_ID (your tenant), KMS_AZURE_CLIENT_ID (its appId) and KMS_AZURE_CLIENT_SECRET. Customers consent to it in their tenants and give it a role on their key; it needs no API permissions.",
      code: clientId
        ? `az ad app show --id ${clientId} --query "{appId:appId, signInAudience:signInAudience}"`
        : `az ad app create --display-name Custody --sign-in-audience AzureADMultipleOrgs --query appId -o tsv\naz ad app credential reset --id <appId> --display-name custody --query password -o tsv`,
      language: "shell",
    },
  ];
}
