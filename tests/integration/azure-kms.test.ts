import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AZURE_CUSTODY_APP, DEV_AZURE_CUSTOMER_TENANT } from "@/lib/dev/azure-kv/defaults";
import { isKmsError, type KmsErrorKind } from "@/lib/kms/errors";
import type { KeyRef } from "@/lib/kms/provider";
import type { AzureKmsClient } from "@/lib/kms/providers/azure/client";
import { azureKmsProvider } from "@/lib/kms/providers/azure";
import { startTestDevAzureKv, type TestDevAzureKv } from "../helpers/dev-azure-kv";

// Custody's Azure provider on the real @azure/identity and @azure/keyvault-keys, against the
// development Key Vault: the 401 bearer challenge, MSAL's client-credentials flow against the
// vault's tenant, TLS with the configured CA bundle, role assignments, key attributes and
// versions, Azure's errors and faults. The customer's side (vaults, keys, role assignments) is
// set up through the server's in-process handle, as a customer would with az.

const ROLE = "Key Vault Crypto Service Encryption User";
const APP = DEV_AZURE_CUSTODY_APP.clientId;
const acme = { tenantId: randomUUID() };
const globex = { tenantId: randomUUID() };
const VAULT = { kind: "vault" as const, name: "acme-keys" };
const HSM = { kind: "managedhsm" as const, name: "acme-hsm" };

let server: TestDevAzureKv;
let client: AzureKmsClient;
let rsaKid: string;
let octKid: string;

function keyRefOf(url: string): KeyRef {
  const parsed = azureKmsProvider.registration.schema(server.config()).safeParse({ keyUrl: url });
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message);
  return { provider: "azure", ...parsed.data };
}

function versionless(kid: string): string {
  return kid.replace(/\/[0-9a-f]{32}$/, "");
}

async function kindOf(work: Promise<unknown>): Promise<KmsErrorKind | "ok"> {
  try {
    await work;
    return "ok";
  } catch (error) {
    if (isKmsError(error)) return error.kind;
    throw error;
  }
}

beforeAll(async () => {
  server = await startTestDevAzureKv();
  const { kv } = server;
  kv.createVault({ ...VAULT, tenantId: DEV_AZURE_CUSTOMER_TENANT });
  kv.createVault({ ...HSM, tenantId: DEV_AZURE_CUSTOMER_TENANT });
  // The customer consents to Custody's app and gives it the role on two keys.
  kv.setServicePrincipal(DEV_AZURE_CUSTOMER_TENANT, APP, true);
  rsaKid = kv.createKey(VAULT, "custody-cmk", "RSA");
  octKid = kv.createKey(HSM, "custody-aes", "oct-HSM");
  kv.assignRole(VAULT, { principal: APP, role: ROLE, scope: "/keys/custody-cmk" });
  kv.assignRole(HSM, { principal: APP, role: "Managed HSM Crypto Service Encryption User", scope: "/keys/custody-aes" });
  client = azureKmsProvider.createClient(server.config()) as AzureKmsClient;
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe("wrap and unwrap through the real Azure libraries", () => {
  it.each([
    ["Key Vault RSA key (RSA-OAEP-256), versionless URL", () => versionless(rsaKid)],
    ["Managed HSM oct-HSM key (A256KW), versioned URL", () => octKid],
  ])("%s: a tenant key round-trips and is bound to its tenant", async (_name, url) => {
    const key = keyRefOf(url());
    const { plaintext, wrapped } = await client.generateTenantKey(key, acme);
    expect(plaintext).toHaveLength(32);
    expect(wrapped.includes(plaintext)).toBe(false);
    expect(await client.unwrapTenantKey(key, wrapped, acme)).toEqual(plaintext);
    // The same wrapped key presented for another tenant is refused, though the KMS unwraps it.
    expect(await kindOf(client.unwrapTenantKey(key, wrapped, globex))).toBe("invalid_ciphertext");
  });

  it("describes the key through the SDK: type, algorithm, enabled", async () => {
    expect((await client.describeKey(keyRefOf(rsaKid))).summary).toMatch(/enabled \(RSA, wraps with RSA-OAEP-256/);
    expect((await client.describeKey(keyRefOf(octKid))).summary).toMatch(/oct-HSM, wraps with A256KW/);
  });

  it("a versionless key follows rotation, and keys wrapped before it still unwrap with their version", async () => {
    const key = keyRefOf(versionless(rsaKid));
    const before = await client.generateTenantKey(key, acme);
    server.kv.createKey(VAULT, "custody-cmk", "RSA");
    const after = await client.generateTenantKey(key, acme);
    expect(after.wrapped.toString("latin1")).not.toContain(rsaKid.split("/").at(-1));
    expect(await client.unwrapTenantKey(key, before.wrapped, acme)).toEqual(before.plaintext);
    expect(await client.unwrapTenantKey(key, after.wrapped, acme)).toEqual(after.plaintext);
    // A URL pinned to the first version refuses what the newer version wrapped.
    expect(await kindOf(client.unwrapTenantKey(keyRefOf(rsaKid), after.wrapped, acme))).toBe("incorrect_key");
  });
});

describe("refusals mapped to Custody's kinds", () => {
  it("no role assignment: access_denied, in Azure's terms (the role named), never Azure's text", async () => {
    const kid = server.kv.createKey(VAULT, "unassigned", "RSA");
    const error = await client.generateTenantKey(keyRefOf(kid), acme).catch((e: unknown) => e);
    expect(isKmsError(error) && error.kind).toBe("access_denied");
    expect((error as Error).message).toContain(ROLE);
    expect((error as Error).message).not.toMatch(/Caller is not authorized|appid=/);
  });

  it("a role for another key of the same vault does not admit this one", async () => {
    const kid = server.kv.createKey(VAULT, "other-key", "RSA");
    server.kv.assignRole(VAULT, { principal: APP, role: ROLE, scope: "/keys/custody-cmk" });
    expect(await kindOf(client.describeKey(keyRefOf(kid)))).toBe("access_denied");
  });

  it("Custody's app not consented in the vault's tenant: access_denied asking for admin consent", async () => {
    const tenant = "7d1e0000-0000-4000-8000-0000000000aa";
    server.kv.createVault({ kind: "vault", name: "unconsented", tenantId: tenant });
    const kid = server.kv.createKey({ kind: "vault", name: "unconsented" }, "k", "RSA");
    server.kv.assignRole({ kind: "vault", name: "unconsented" }, { principal: APP, role: ROLE, scope: "/" });
    const error = await client.describeKey(keyRefOf(kid)).catch((e: unknown) => e);
    expect(isKmsError(error) && error.kind).toBe("access_denied");
    expect((error as Error).message).toContain("az ad sp create");
  });

  it("disabled key: key_disabled on describe and unwrap", async () => {
    const kid = server.kv.createKey(VAULT, "to-disable", "RSA");
    server.kv.assignRole(VAULT, { principal: APP, role: ROLE, scope: "/keys/to-disable" });
    const key = keyRefOf(kid);
    const { wrapped } = await client.generateTenantKey(key, acme);
    server.kv.updateKey(VAULT, "to-disable", undefined, { enabled: false });
    expect(await kindOf(client.describeKey(key))).toBe("key_disabled");
    expect(await kindOf(client.unwrapTenantKey(key, wrapped, acme))).toBe("key_disabled");
    server.kv.updateKey(VAULT, "to-disable", undefined, { enabled: true });
    expect(await kindOf(client.unwrapTenantKey(key, wrapped, acme))).toBe("ok");
  });

  it("expired and not-yet-valid keys: invalid_state, each with its own message", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = server.kv.createKey(VAULT, "expired", "RSA", { exp: now - 60 });
    const future = server.kv.createKey(VAULT, "future", "RSA", { nbf: now + 86_400 });
    server.kv.assignRole(VAULT, { principal: APP, role: ROLE, scope: "/" });
    const e1 = await client.generateTenantKey(keyRefOf(expired), acme).catch((e: unknown) => e);
    const e2 = await client.generateTenantKey(keyRefOf(future), acme).catch((e: unknown) => e);
    expect(isKmsError(e1) && e1.kind).toBe("invalid_state");
    expect((e1 as Error).message).toMatch(/expired/);
    expect(isKmsError(e2) && e2.kind).toBe("invalid_state");
    expect((e2 as Error).message).toMatch(/not valid yet/);
  });

  it("a key or version that does not exist: not_found", async () => {
    expect(await kindOf(client.describeKey(keyRefOf(`${versionless(rsaKid).split("/keys/")[0]}/keys/nope`)))).toBe("not_found");
    expect(await kindOf(client.describeKey(keyRefOf(`${versionless(rsaKid)}/${"0".repeat(32)}`)))).toBe("not_found");
  });

  it("a wrapped key presented with another key: incorrect_key, no call made", async () => {
    const { wrapped } = await client.generateTenantKey(keyRefOf(octKid), acme);
    expect(await kindOf(client.unwrapTenantKey(keyRefOf(rsaKid), wrapped, acme))).toBe("incorrect_key");
  });

  it("a wrong client secret: credentials (the vendor's side)", async () => {
    const wrong = azureKmsProvider.createClient(server.config({ KMS_AZURE_CLIENT_SECRET: "not-the-secret" })) as AzureKmsClient;
    try {
      expect(await kindOf(wrong.describeKey(keyRefOf(rsaKid)))).toBe("credentials");
    } finally {
      wrong.close();
    }
  });
});

describe("faults", () => {
  it("429 with Retry-After and 503 are retried by the SDK and the call succeeds", async () => {
    const key = keyRefOf(octKid);
    const before = server.kv.calls();
    server.kv.faults.throttleNext(1, 1);
    server.kv.faults.failNext(1);
    const { plaintext, wrapped } = await client.generateTenantKey(key, acme);
    expect(await client.unwrapTenantKey(key, wrapped, acme)).toEqual(plaintext);
    const after = server.kv.calls();
    // get, get (429), get (503), get… — the faulted requests were answered and retried.
    expect((after.get ?? 0) - (before.get ?? 0)).toBeGreaterThanOrEqual(4);
  });

  it("throttling past the attempts: throttled; 5xx past them: unreachable", async () => {
    const key = keyRefOf(octKid);
    server.kv.faults.throttleNext(3, 0);
    expect(await kindOf(client.describeKey(key))).toBe("throttled");
    server.kv.faults.failNext(3);
    expect(await kindOf(client.describeKey(key))).toBe("unreachable");
    expect(await kindOf(client.describeKey(key))).toBe("ok");
  });

  it("a vault nobody answers for: unreachable", async () => {
    expect(await kindOf(client.describeKey(keyRefOf(`https://nosuchvault.${server.kv.vaultDnsSuffix}:${server.kv.port}/keys/k`)))).toBe("unreachable");
  });
});

describe("bad input: clear messages", () => {
  const message = (url: string, env?: Record<string, string>) => {
    const parsed = azureKmsProvider.registration.schema(server.config(env)).safeParse({ keyUrl: url });
    return parsed.success ? "accepted" : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  };

  it.each([
    ["", /Enter the key's URL/],
    ["contoso", /not a URL/],
    ["http://acme-keys.vault.azure.net/keys/k", /https:\/\//],
    ["https://acme-keys.vault.azure.net/keys/k", /must be in an Azure Key Vault/],
    ["https://evil.example.com/keys/k", /must be in an Azure Key Vault/],
    ["https://acme-keys.vault.localhost/secrets/s", /must be in an Azure Key Vault|path must be/],
  ])("%j is refused", (url, expected) => {
    expect(message(url)).toMatch(expected);
  });

  it("refuses paths, names and versions that are not a key's", () => {
    const base = `https://acme-keys.${server.kv.vaultDnsSuffix}:${server.kv.port}`;
    expect(message(`${base}/secrets/s`)).toMatch(/keyUrl: The path must be \/keys\/<name>/);
    expect(message(`${base}/keys/k/not-a-version`)).toMatch(/32 hexadecimal/);
    expect(message(`${base}/keys/k?api-version=7.5`)).toMatch(/no user name, query/);
    expect(message(`https://a.${server.kv.vaultDnsSuffix}:${server.kv.port}/keys/k`)).toMatch(/not a Key Vault name/);
    expect(message(`${base}/keys/k`)).toBe("accepted");
  });

  it("a key of another vault than the configured ones is refused, naming both", () => {
    const allowed = `https://acme-keys.${server.kv.vaultDnsSuffix}:${server.kv.port}`;
    const other = `https://other-keys.${server.kv.vaultDnsSuffix}:${server.kv.port}/keys/k`;
    expect(message(other, { KMS_AZURE_VAULTS: allowed })).toMatch(/other-keys.*not one of the vaults.*acme-keys/);
    expect(message(`${allowed}/keys/k`, { KMS_AZURE_VAULTS: allowed })).toBe("accepted");
  });
});
