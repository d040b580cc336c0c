import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { parseEnv } from "@/lib/config";
import { startDemoVault, VAULT_DEMO_KEY } from "@/lib/dev/demo/demo-vault";
import { vaultKmsProvider } from "@/lib/kms/providers/vault";

// The demo's Vault tenant: the development Vault demo mode starts holds Initech's key, which
// already admits Custody through the AppRole demo mode hands Custody (VAULT_SERVERS), through
// the provider's production path (registration schema, client from the configuration); and
// it keeps its address across restarts, so a registered key still works after `npm start` again.

const dataDir = mkdtempSync(path.join(tmpdir(), "custody-demo-vault-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it("Initech's key admits Custody from the first start, and again after a restart on the same address", async () => {
  const tenant = { tenantId: randomUUID() };
  let first = await startDemoVault(dataDir, undefined);
  const address = first.vault.address;
  let wrapped: Buffer;
  let plaintext: Buffer;
  try {
    const config = parseEnv({ VAULT_SERVERS: first.servers }, "library");
    const parsed = vaultKmsProvider.registration.schema(config).parse({ address, key: VAULT_DEMO_KEY });
    const key = { provider: "vault" as const, ...parsed };
    const client = vaultKmsProvider.createClient(config);
    ({ plaintext, wrapped } = await client.generateTenantKey(key, tenant));
    expect((await client.unwrapTenantKey(key, wrapped, tenant)).equals(plaintext)).toBe(true);
    expect((await client.describeKey(key)).summary).toMatch(/aes256-gcm96, derived/);
  } finally {
    await first.vault.close();
  }

  first = await startDemoVault(dataDir, undefined);
  try {
    expect(first.vault.address).toBe(address);
    const config = parseEnv({ VAULT_SERVERS: first.servers }, "library");
    const key = { provider: "vault" as const, ...vaultKmsProvider.registration.schema(config).parse({ address, key: VAULT_DEMO_KEY }) };
    expect((await vaultKmsProvider.createClient(config).unwrapTenantKey(key, wrapped, tenant)).equals(plaintext)).toBe(true);
  } finally {
    await first.vault.close();
  }
});
