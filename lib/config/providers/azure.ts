import { z } from "zod";
import { bool, httpUrl } from "../fields";
import type { ProviderChecks } from "./types";

// Azure Key Vault / Managed HSM settings (lib/kms/providers/azure reads them through getConfig()).
// Custody is one multi-tenant Microsoft Entra app; customers consent to it in their tenant and
// give it a role on their key.

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DOMAIN = /^[a-z0-9.-]+(:\d{1,5})?$/;

export const AZURE_KMS_VARIABLES = {
  /** Custody's app registration: its home tenant, client id and a client secret. */
  KMS_AZURE_TENANT_ID: z.string().regex(/^[0-9a-fA-F-]{36}$|^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, "must be a tenant id (a GUID) or a tenant domain").optional(),
  KMS_AZURE_CLIENT_ID: z.string().regex(GUID, "must be the app's client id (a GUID)").optional(),
  KMS_AZURE_CLIENT_SECRET: z.string().min(1, "must not be empty").optional(),
  /** Entra's authority host: another for a sovereign cloud (https://login.microsoftonline.us, https://login.chinacloudapi.cn). */
  KMS_AZURE_AUTHORITY_HOST: httpUrl.refine((v) => v.startsWith("https://"), "must be an https:// URL").default("https://login.microsoftonline.com"),
  /** Skip MSAL's instance discovery (needed for an authority host Microsoft's discovery does not know). */
  KMS_AZURE_DISABLE_INSTANCE_DISCOVERY: bool.default(false),
  /** Extra CA certificates (a PEM file) trusted for Entra and Key Vault besides the system's. */
  KMS_AZURE_CA_FILE: z.string().min(1).optional(),
  /** The domains (optionally :port) vault and Managed HSM URLs end in; others for sovereign clouds. */
  KMS_AZURE_KEY_VAULT_DOMAIN: z.string().regex(DOMAIN, "must be a domain such as vault.azure.net").default("vault.azure.net"),
  KMS_AZURE_MANAGED_HSM_DOMAIN: z.string().regex(DOMAIN, "must be a domain such as managedhsm.azure.net").default("managedhsm.azure.net"),
  /** Only keys in these vaults or HSMs (comma-separated URLs) may be registered; unset: any vault under the domains. */
  KMS_AZURE_VAULTS: z
    .string()
    .transform((v) => v.split(",").map((e) => e.trim().replace(/\/+$/, "").toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/, "must be a comma-separated list of vault URLs such as https://contoso.vault.azure.net")))
    .default([]),
};

export const azureKmsChecks: ProviderChecks = (raw) => {
  const set = [raw.KMS_AZURE_TENANT_ID, raw.KMS_AZURE_CLIENT_ID, raw.KMS_AZURE_CLIENT_SECRET].filter((v) => v !== undefined).length;
  return set === 0 || set === 3 ? [] : ["KMS_AZURE_TENANT_ID, KMS_AZURE_CLIENT_ID and KMS_AZURE_CLIENT_SECRET must be set together (or none, without Azure keys)"];
};
