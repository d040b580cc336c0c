import path from "node:path";
import type { Env } from "@/lib/config";
import { DEV_AZURE_CUSTODY_APP, DEV_AZURE_CUSTOMER_TENANT, DEV_AZURE_VENDOR_TENANT } from "@/lib/dev/azure-kv/defaults";
import type { DevAzureKv } from "@/lib/dev/azure-kv/server";

// The demo's Azure side: the development Key Vault, the settings that point Custody's Azure
// provider at it (the ones a sovereign cloud or private endpoint would use), and Fabrikam's key:
// a vault in Fabrikam's own Entra tenant, where Fabrikam's administrator has consented to
// Custody's app and given it "Key Vault Crypto Service Encryption User" on the key, as the
// console's instructions say. Fabrikam (the tenant, admin@fabrikam.example) registers and
// verifies it.

export const DEMO_AZURE_TENANT = { name: "Fabrikam", slug: "fabrikam", adminEmail: "admin@fabrikam.example" } as const;
const VAULT = { kind: "vault" as const, name: "fabrikam-keys" };
const KEY = "custody-cmk";

export async function startDemoAzure(config: Env, dataDir: string): Promise<{ kv: DevAzureKv; settings: Partial<Env>; keyUrl: string }> {
  const { startDevAzureKv } = await import("@/lib/dev/azure-kv/server");
  const kv = await startDevAzureKv({ port: config.DEV_AZURE_KV_PORT, dataDir: path.join(dataDir, "dev-azure-kv") });
  const { url } = kv.createVault({ ...VAULT, tenantId: DEV_AZURE_CUSTOMER_TENANT });
  if (!kv.hasKey(VAULT, KEY)) {
    kv.createKey(VAULT, KEY, "RSA");
    kv.setServicePrincipal(DEV_AZURE_CUSTOMER_TENANT, DEV_AZURE_CUSTODY_APP.clientId, true);
    kv.assignRole(VAULT, { principal: DEV_AZURE_CUSTODY_APP.clientId, role: "Key Vault Crypto Service Encryption User", scope: `/keys/${KEY}` });
  }
  const settings: Partial<Env> = {
    KMS_AZURE_TENANT_ID: DEV_AZURE_VENDOR_TENANT,
    KMS_AZURE_CLIENT_ID: DEV_AZURE_CUSTODY_APP.clientId,
    KMS_AZURE_CLIENT_SECRET: DEV_AZURE_CUSTODY_APP.secret,
    KMS_AZURE_AUTHORITY_HOST: kv.authorityHost,
    KMS_AZURE_DISABLE_INSTANCE_DISCOVERY: true,
    KMS_AZURE_CA_FILE: kv.caPath,
    KMS_AZURE_KEY_VAULT_DOMAIN: `${kv.vaultDnsSuffix}:${kv.port}`,
    KMS_AZURE_MANAGED_HSM_DOMAIN: `${kv.managedHsmDnsSuffix}:${kv.port}`,
  };
  return { kv, settings, keyUrl: `${url}/keys/${KEY}` };
}

/** Creates the Fabrikam tenant (once), through the console's own domain functions. */
export async function seedAzureTenant(vendorAdminEmail: string, request: { sourceIp: null; userAgent: string; requestId: string }): Promise<void> {
  const { getDb } = await import("@/lib/db");
  const { createTenant } = await import("@/lib/tenants");
  const db = getDb();
  if (await db.tenant.findUnique({ where: { slug: DEMO_AZURE_TENANT.slug } })) return;
  const vendor = await db.user.findUniqueOrThrow({ where: { email: vendorAdminEmail } });
  await createTenant({ userId: vendor.id, request }, { name: DEMO_AZURE_TENANT.name, slug: DEMO_AZURE_TENANT.slug, adminEmail: DEMO_AZURE_TENANT.adminEmail });
}
