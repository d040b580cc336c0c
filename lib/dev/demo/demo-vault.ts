import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import { getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";
import { startDevVault, type DevVault } from "@/lib/dev/vault/server";
import { writeSecretFile } from "@/lib/dev/vault/secret-file";
import { vaultRequest, type VaultCall } from "@/lib/kms/providers/vault/http";
import { vaultPolicy, vaultPolicyName } from "@/lib/kms/providers/vault/instructions";
import { parseVaultKeyRef } from "@/lib/kms/providers/vault/key-ref";
import { createTenant } from "@/lib/tenants";

// The demo's tenant on HashiCorp Vault / OpenBao: Initech, whose administrator set up the
// development Vault as Custody's instructions say — a derived transit key, the policy, an
// AppRole — and handed the vendor the AppRole's role id and secret id, which become Custody's
// VAULT_SERVERS entry for that Vault. The Vault keeps its port across starts (a registered key
// names its address), chosen free on the first start unless DEV_VAULT_PORT says.

export const VAULT_DEMO_TENANT = { name: "Initech", slug: "initech", adminEmail: "admin@initech.example" } as const;
export const VAULT_DEMO_KEY = "custody-initech";
const SEED_REQUEST: RequestMeta = { sourceIp: null, userAgent: "custody demo seed", requestId: "demo-seed" };

/** Starts the development Vault with Initech's key, policy and AppRole; returns it and Custody's VAULT_SERVERS value. */
export async function startDemoVault(dataDir: string, port: number | undefined): Promise<{ vault: DevVault; servers: string }> {
  const portFile = path.join(dataDir, "port");
  const vault = await startDevVault({ port: port ?? savedPort(portFile) ?? 0, dataDir });
  try {
    writeSecretFile(portFile, `${new URL(vault.address).port}\n`);
    const admin = (call: Omit<VaultCall, "token">) => vaultRequest({ address: vault.address, caPem: vault.caPem, timeoutMs: 10_000 }, { ...call, token: vault.rootToken });
    const ok = async (call: Omit<VaultCall, "token">) => {
      const reply = await admin(call);
      if (reply.status >= 300) throw new Error(`The demo Vault refused ${call.method} ${call.path} (HTTP ${reply.status})`);
      return (reply.json as { data?: Record<string, string> } | undefined)?.data;
    };
    if ((await admin({ method: "GET", path: `transit/keys/${VAULT_DEMO_KEY}` })).status !== 200) {
      await admin({ method: "POST", path: "sys/mounts/transit", body: { type: "transit" } });
      await admin({ method: "POST", path: "sys/auth/approle", body: { type: "approle" } });
      await ok({ method: "POST", path: `transit/keys/${VAULT_DEMO_KEY}`, body: { type: "aes256-gcm96", derived: true } });
    }
    const ref = parseVaultKeyRef({ address: vault.address, key: VAULT_DEMO_KEY }, { allowHttpLoopback: false });
    const policy = vaultPolicyName(VAULT_DEMO_TENANT.slug);
    await ok({ method: "PUT", path: `sys/policies/acl/${policy}`, body: { policy: vaultPolicy(ref, VAULT_DEMO_TENANT.slug) } });
    await ok({ method: "POST", path: `auth/approle/role/${policy}`, body: { token_policies: [policy], token_ttl: "1h" } });
    const roleId = (await ok({ method: "GET", path: `auth/approle/role/${policy}/role-id` }))?.role_id;
    const secretId = (await ok({ method: "POST", path: `auth/approle/role/${policy}/secret-id` }))?.secret_id;
    if (!roleId || !secretId) throw new Error("The demo Vault gave no AppRole credentials");
    return { vault, servers: JSON.stringify([{ address: vault.address, caPem: vault.caPem, approle: { roleId, secretId } }]) };
  } catch (error) {
    await vault.close();
    throw error;
  }
}

/** Seeds Initech once (after the demo's vendor admin exists); false when already there. */
export async function seedVaultTenant(vendorEmail: string): Promise<boolean> {
  const db = getDb();
  if (await db.tenant.findUnique({ where: { slug: VAULT_DEMO_TENANT.slug } })) return false;
  const vendor = await db.user.findUnique({ where: { email: vendorEmail } });
  if (!vendor) return false;
  await createTenant({ userId: vendor.id, request: SEED_REQUEST }, VAULT_DEMO_TENANT);
  return true;
}

/** What to print about Initech's key, or nothing without the tenant or the Vault. */
export async function vaultTenantKeyLines(servers: string | undefined): Promise<string[]> {
  const address = servers ? (JSON.parse(servers) as Array<{ address: string }>)[0]?.address : undefined;
  if (!address || !(await getDb().tenant.findUnique({ where: { slug: VAULT_DEMO_TENANT.slug } }))) return [];
  return [
    "Initech's key in the development Vault (its policy already lets Custody's AppRole in):",
    `  address ${address}, mount transit, key ${VAULT_DEMO_KEY}`,
    `Sign in as ${VAULT_DEMO_TENANT.adminEmail}, open Keys, choose HashiCorp Vault / OpenBao, register it and verify.`,
  ];
}

function savedPort(file: string): number | undefined {
  try {
    const port = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}
