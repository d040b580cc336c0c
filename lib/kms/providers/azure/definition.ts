import { z } from "zod";
import type { Config } from "@/lib/config";
import type { KeyDetails, KeyRef, KmsProviderDefinition } from "@/lib/kms/provider";
import { createAzureKmsClient, type AzureKmsSettings } from "./client";
import { toAzureKmsError, type AzureOperation } from "./errors";
import { AZURE_ICON } from "./icon";
import { customerInstructions, vendorInstructions } from "./instructions";
import { AzureKeyRefError, parseAzureKeyUrl, type AzureDomains, type AzureKeyRef } from "./key-ref";

// Azure Key Vault and Managed HSM as a Custody KMS provider: the key URL is the reference, a role
// assignment on the key (or a vault access policy) is the customer's access, a locally made
// tenant key wrapped (RSA-OAEP-256 / A256KW) inside a tenant-bound envelope is what is stored,
// and changes to role assignments may take a few minutes to apply.

export function azureDomains(config: Config): AzureDomains {
  return { keyVault: config.KMS_AZURE_KEY_VAULT_DOMAIN, managedHsm: config.KMS_AZURE_MANAGED_HSM_DOMAIN, vaults: config.KMS_AZURE_VAULTS };
}

export function azureSettings(config: Config): AzureKmsSettings {
  if (!config.KMS_AZURE_TENANT_ID || !config.KMS_AZURE_CLIENT_ID || !config.KMS_AZURE_CLIENT_SECRET) {
    throw new Error("Azure Key Vault is not configured (KMS_AZURE_TENANT_ID, KMS_AZURE_CLIENT_ID, KMS_AZURE_CLIENT_SECRET)");
  }
  return {
    tenantId: config.KMS_AZURE_TENANT_ID,
    clientId: config.KMS_AZURE_CLIENT_ID,
    clientSecret: config.KMS_AZURE_CLIENT_SECRET,
    authorityHost: config.KMS_AZURE_AUTHORITY_HOST,
    disableInstanceDiscovery: config.KMS_AZURE_DISABLE_INSTANCE_DISCOVERY,
    caFile: config.KMS_AZURE_CA_FILE,
    domains: azureDomains(config),
    maxAttempts: config.KMS_MAX_ATTEMPTS,
    requestTimeoutMs: 5_000,
  };
}

function toDetails(ref: AzureKeyRef): KeyDetails {
  return { kind: ref.kind, vaultUrl: ref.vaultUrl, vaultName: ref.vaultName, keyName: ref.keyName, version: ref.version ?? null };
}

/** The stored reference's parts (written by the registration schema from the parsed URL). */
function refOf(key: KeyRef): AzureKeyRef {
  const d = key.details;
  return {
    kind: d.kind === "managedhsm" ? "managedhsm" : "vault",
    vaultUrl: `https://${new URL(key.ref).host}`,
    vaultName: String(d.vaultName),
    keyName: String(d.keyName),
    version: typeof d.version === "string" ? d.version : undefined,
    keyUrl: key.ref,
  };
}

function registrationSchema(config: Config) {
  return z.object({ keyUrl: z.string() }).transform((input, ctx) => {
    try {
      const ref = parseAzureKeyUrl(input.keyUrl, azureDomains(config));
      return { ref: ref.keyUrl, details: toDetails(ref) };
    } catch (error) {
      ctx.addIssue({ code: "custom", path: ["keyUrl"], message: error instanceof AzureKeyRefError ? error.message : "That is not a Key Vault key URL." });
      return z.NEVER;
    }
  });
}

export const azureKmsProvider: KmsProviderDefinition = {
  name: "azure",
  display: {
    label: "Azure Key Vault",
    icon: AZURE_ICON,
    referenceLabel: "Key URL",
    location: (key) => (typeof key.details.vaultName === "string" ? key.details.vaultName : null),
    facts: (key) => [
      key.details.kind === "managedhsm" ? "Managed HSM" : "Key Vault",
      typeof key.details.version === "string" ? `version ${key.details.version.slice(0, 8)}… only` : "current version (follows rotation)",
    ],
    tenantBinding: (tenantId) => ({ label: "Wrapped envelope names", value: `tenant_id = ${tenantId}` }),
  },
  configured: (config) => config.KMS_AZURE_CLIENT_ID !== undefined,
  registration: {
    fields: [
      {
        name: "keyUrl",
        label: "Key URL",
        hint: "The key identifier, e.g. https://contoso.vault.azure.net/keys/custody-cmk (az keyvault key show --query key.kid). With a version, Custody always uses that version; without, the current one.",
        placeholder: "https://<vault>.vault.azure.net/keys/<name>",
        code: true,
      },
    ],
    schema: registrationSchema,
  },
  createClient: (config) => createAzureKmsClient(azureSettings(config)),
  toKmsError: (error, operation) => toAzureKmsError(error, operation as AzureOperation),
  instructions: ({ key, config }) => customerInstructions(refOf(key), config.KMS_AZURE_CLIENT_ID ?? "<Custody's app id>"),
  vendorSetup: (config) => vendorInstructions(config.KMS_AZURE_CLIENT_ID),
  verify: {
    summary: "Wraps a new tenant key with your key (inside an envelope naming this tenant), unwraps it, then reads the key's attributes, live against your vault. Success makes this key the tenant's primary.",
    propagationNote: "Azure can take a few minutes to apply a new role assignment; Verify keeps trying for up to five minutes.",
    steps: {
      generate: { name: "wrapKey", success: "Key Vault wrapped a new 256-bit tenant key, in an envelope bound to this tenant." },
      unwrap: { name: "unwrapKey", success: "Key Vault unwrapped the tenant key, and the envelope names this tenant." },
      describe: { name: "get", success: "Key is enabled and within its activation and expiration dates." },
    },
    retryWhilePropagating: ["access_denied"],
  },
  revocation: {
    summary: "Custody refuses every call for the tenant at once. Your role assignment (or access policy) stays until you remove it: az role assignment delete --assignee <Custody's app id> --scope <the key's scope>.",
  },
};
