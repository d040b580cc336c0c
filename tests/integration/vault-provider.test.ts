import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultTransitClient, type VaultClientOptions, type VaultTransitClient } from "@/lib/kms/providers/vault/client";
import { VaultError } from "@/lib/kms/providers/vault/errors";
import { vaultInstructions, vaultPolicy, vaultPolicyName } from "@/lib/kms/providers/vault/instructions";
import { vaultRequest } from "@/lib/kms/providers/vault/http";
import { parseVaultKeyRef, type VaultKeyRef } from "@/lib/kms/providers/vault/key-ref";
import type { VaultServer } from "@/lib/kms/providers/vault/settings";
import { startTestDevVault, type TestDevVault } from "../helpers/dev-vault";

// Custody's Vault transit client (lib/kms/providers/vault) against the development Vault over
// HTTPS with its local CA: the customer's administrator follows Custody's instructions (the
// policy, the AppRole) with the root token, then Custody uses the key with the AppRole's role
// id and secret id. Every failure must come back as a VaultError of the right kind with
// Vault-specific wording, never Vault's own text.

let dev: TestDevVault;
const TENANT = { id: randomUUID(), slug: "acme" };
const OTHER_TENANT = randomUUID();
const binding = (tenantId: string) => Buffer.from(`tenant_id=${tenantId}`, "utf8");

function refFor(key: string, namespace = ""): VaultKeyRef {
  return parseVaultKeyRef({ address: dev.vault.address, mount: "transit", key, namespace }, { allowHttpLoopback: false });
}

/** What the customer does, per Custody's instructions, for `key`; returns the AppRole's credentials. */
async function customerSetUp(key: string, options: { namespace?: string; slug?: string; derived?: boolean } = {}): Promise<{ roleId: string; secretId: string }> {
  const ns = options.namespace;
  const slug = options.slug ?? `${TENANT.slug}-${key}`;
  const ref = refFor(key, ns);
  await dev.admin({ method: "POST", path: `transit/keys/${key}`, body: { type: "aes256-gcm96", derived: options.derived ?? true } }, ns);
  await dev.admin({ method: "PUT", path: `sys/policies/acl/${vaultPolicyName(slug)}`, body: { policy: vaultPolicy(ref, slug) } }, ns);
  await dev.admin({ method: "POST", path: `auth/approle/role/custody-${slug}`, body: { token_policies: vaultPolicyName(slug), token_ttl: "1h" } }, ns);
  const roleId = ((await dev.admin({ method: "GET", path: `auth/approle/role/custody-${slug}/role-id` }, ns)).json as { data: { role_id: string } }).data.role_id;
  const secretId = ((await dev.admin({ method: "POST", path: `auth/approle/role/custody-${slug}/secret-id` }, ns)).json as { data: { secret_id: string } }).data.secret_id;
  return { roleId, secretId };
}

function clientWith(servers: VaultServer[], overrides: Partial<VaultClientOptions> = {}): VaultTransitClient {
  return createVaultTransitClient({ servers, maxAttempts: 3, timeoutMs: 10_000, backoffMs: () => 0, ...overrides });
}

function approleServer(credentials: { roleId: string; secretId: string }, namespace = ""): VaultServer {
  return { address: dev.vault.address, namespace, caPem: dev.vault.caPem, auth: { method: "approle", mount: "approle", ...credentials } };
}

async function failure(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  return error as VaultError;
}

let acme: VaultTransitClient;

beforeAll(async () => {
  dev = await startTestDevVault();
  await dev.admin({ method: "POST", path: "sys/mounts/transit", body: { type: "transit" } });
  await dev.admin({ method: "POST", path: "sys/auth/approle", body: { type: "approle" } });
  acme = clientWith([approleServer(await customerSetUp("custody-acme"))]);
});

afterAll(async () => {
  await dev?.stop();
});

describe("wrap and unwrap through the customer's AppRole", () => {
  it("wraps a tenant key under the tenant's context and unwraps it again", async () => {
    const plaintext = randomBytes(32);
    const ciphertext = await acme.encrypt(refFor("custody-acme"), plaintext, binding(TENANT.id));
    expect(ciphertext).toMatch(/^vault:v1:/);
    expect(ciphertext).not.toContain(plaintext.toString("base64"));
    expect((await acme.decrypt(refFor("custody-acme"), ciphertext, binding(TENANT.id))).equals(plaintext)).toBe(true);
  });

  it("refuses to unwrap a tenant key for another tenant (the context is bound)", async () => {
    const ciphertext = await acme.encrypt(refFor("custody-acme"), randomBytes(32), binding(TENANT.id));
    const error = await failure(acme.decrypt(refFor("custody-acme"), ciphertext, binding(OTHER_TENANT)));
    expect(error.kind).toBe("invalid_ciphertext");
    expect(error.message).not.toMatch(/cipher: message authentication failed/);
  });

  it("reads the key's type and versions (the policy's read on transit/keys)", async () => {
    const info = await acme.readKey(refFor("custody-acme"));
    expect(info).toMatchObject({ type: "aes256-gcm96", derived: true, latestVersion: 1, minDecryptionVersion: 1, supportsEncryption: true });
  });

  it("the instructions name the same policy the customer wrote, and the AppRole commands", () => {
    const blocks = vaultInstructions({ ref: refFor("custody-acme"), tenantSlug: "acme" });
    expect(blocks.find((b) => b.id === "vault-policy")?.code).toBe(vaultPolicy(refFor("custody-acme"), "acme"));
    expect(blocks.find((b) => b.id === "vault-approle")?.code).toContain("vault write auth/approle/role/custody-acme token_policies=custody-acme");
  });
});

describe("refusals", () => {
  it("a key the policy does not cover is permission denied, in Vault's words", async () => {
    await dev.admin({ method: "POST", path: "transit/keys/someone-else", body: { derived: true } });
    const error = await failure(acme.encrypt(refFor("someone-else"), randomBytes(32), binding(TENANT.id)));
    expect(error).toMatchObject({ kind: "access_denied", operation: "transit/encrypt" });
    expect(error.message).toMatch(/Vault policy/);
    expect((await failure(acme.readKey(refFor("someone-else")))).kind).toBe("access_denied");
  });

  it("a policy the customer deletes stops wrapping at once", async () => {
    const client = clientWith([approleServer(await customerSetUp("short-lived", { slug: "short" }))]);
    await client.encrypt(refFor("short-lived"), randomBytes(32), binding(TENANT.id));
    await dev.admin({ method: "DELETE", path: `sys/policies/acl/${vaultPolicyName("short")}` });
    expect((await failure(client.encrypt(refFor("short-lived"), randomBytes(32), binding(TENANT.id)))).kind).toBe("access_denied");
  });

  it("a wrong secret id is the vendor's credentials, not the customer's policy", async () => {
    const { roleId } = await customerSetUp("bad-secret", { slug: "bad" });
    const client = clientWith([approleServer({ roleId, secretId: randomUUID() })]);
    const error = await failure(client.encrypt(refFor("bad-secret"), randomBytes(32), binding(TENANT.id)));
    expect(error).toMatchObject({ kind: "credentials", operation: "auth/approle/login" });
  });

  it("a token Vault no longer honours is reported as credentials (lookup-self refused), not as a policy gap", async () => {
    const client = clientWith([{ address: dev.vault.address, namespace: "", caPem: dev.vault.caPem, auth: { method: "token", token: "hvs.not-a-token" } }]);
    const error = await failure(client.readKey(refFor("custody-acme")));
    expect(error).toMatchObject({ kind: "credentials", code: "token-refused" });
  });

  it("a key that does not exist is not found when the policy lets Custody look", async () => {
    await dev.admin({ method: "PUT", path: "sys/policies/acl/glob", body: { policy: 'path "transit/keys/*" { capabilities = ["read"] }' } });
    const token = ((await dev.admin({ method: "POST", path: "auth/token/create", body: { policies: ["glob"] } })).json as { auth: { client_token: string } }).auth.client_token;
    const client = clientWith([{ address: dev.vault.address, namespace: "", caPem: dev.vault.caPem, auth: { method: "token", token } }]);
    expect((await failure(client.readKey(refFor("no-such-key")))).kind).toBe("not_found");
  });

  it("an address the vendor holds no credentials for is refused before anything is sent", async () => {
    const calls = JSON.stringify(dev.vault.calls());
    const error = await failure(acme.encrypt(refFor("custody-acme", "other-namespace"), randomBytes(32), binding(TENANT.id)));
    expect(error).toMatchObject({ kind: "credentials", code: "no-credentials" });
    expect(JSON.stringify(dev.vault.calls())).toBe(calls);
  });
});

describe("key states", () => {
  it("a soft-deleted key (OpenBao) is named disabled, and works again once restored", async () => {
    const client = clientWith([approleServer(await customerSetUp("soft", { slug: "soft" }))]);
    const ciphertext = await client.encrypt(refFor("soft"), randomBytes(32), binding(TENANT.id));
    await dev.admin({ method: "DELETE", path: "transit/keys/soft/soft-delete" });
    expect(await failure(client.decrypt(refFor("soft"), ciphertext, binding(TENANT.id)))).toMatchObject({ kind: "key_disabled", code: "soft_deleted" });
    expect((await client.readKey(refFor("soft"))).softDeleted).toBe(true);
    await dev.admin({ method: "POST", path: "transit/keys/soft/soft-delete-restore" });
    await client.decrypt(refFor("soft"), ciphertext, binding(TENANT.id));
  });

  it("a key the policy names but that does not exist is not found, though Vault only says permission denied to encrypt", async () => {
    const client = clientWith([approleServer(await customerSetUp("typo", { slug: "typo" }))]);
    await dev.admin({ method: "POST", path: "transit/keys/typo/config", body: { deletion_allowed: true } });
    await dev.admin({ method: "DELETE", path: "transit/keys/typo" });
    expect(await failure(client.encrypt(refFor("typo"), randomBytes(32), binding(TENANT.id)))).toMatchObject({ kind: "not_found", operation: "transit/encrypt" });
  });
});

describe("key versions", () => {
  it("rotation: new wraps use the latest version, old ones still unwrap, until min_decryption_version passes them", async () => {
    const client = clientWith([approleServer(await customerSetUp("rotating", { slug: "rot" }))]);
    const ref = refFor("rotating");
    const plaintext = randomBytes(32);
    const v1 = await client.encrypt(ref, plaintext, binding(TENANT.id));
    await dev.admin({ method: "POST", path: "transit/keys/rotating/rotate" });
    const v2 = await client.encrypt(ref, plaintext, binding(TENANT.id));
    expect(v1).toMatch(/^vault:v1:/);
    expect(v2).toMatch(/^vault:v2:/);
    expect((await client.decrypt(ref, v1, binding(TENANT.id))).equals(plaintext)).toBe(true);
    expect((await client.readKey(ref)).latestVersion).toBe(2);

    await dev.admin({ method: "POST", path: "transit/keys/rotating/config", body: { min_decryption_version: 2 } });
    const error = await failure(client.decrypt(ref, v1, binding(TENANT.id)));
    expect(error).toMatchObject({ kind: "invalid_state", code: "min_decryption_version" });
    expect(error.message).toMatch(/min_decryption_version/);
    expect((await client.decrypt(ref, v2, binding(TENANT.id))).equals(plaintext)).toBe(true);

    await dev.admin({ method: "POST", path: "transit/keys/rotating/config", body: { min_decryption_version: 1 } });
    expect((await client.decrypt(ref, v1, binding(TENANT.id))).equals(plaintext)).toBe(true);
  });
});

describe("faults", () => {
  it("a sealed Vault is reported as sealed and not retried", async () => {
    const before = dev.vault.calls()["transit/encrypt/custody-acme"] ?? 0;
    dev.vault.seal();
    try {
      const error = await failure(acme.encrypt(refFor("custody-acme"), randomBytes(32), binding(TENANT.id)));
      expect(error).toMatchObject({ kind: "unreachable", code: "sealed" });
      expect(error.message).toMatch(/sealed/);
    } finally {
      dev.vault.unseal();
    }
    expect(dev.vault.calls()["transit/encrypt/custody-acme"] ?? 0).toBe(before);
    await acme.encrypt(refFor("custody-acme"), randomBytes(32), binding(TENANT.id));
  });

  it("sys/health and sys/seal-status answer without a token, and say when the Vault is sealed", async () => {
    const endpoint = { address: dev.vault.address, caPem: dev.vault.caPem, timeoutMs: 10_000 };
    expect(await vaultRequest(endpoint, { method: "GET", path: "sys/health" })).toMatchObject({ status: 200, json: { initialized: true, sealed: false } });
    dev.vault.seal();
    try {
      expect(await vaultRequest(endpoint, { method: "GET", path: "sys/health" })).toMatchObject({ status: 503, json: { sealed: true } });
      expect(await vaultRequest(endpoint, { method: "GET", path: "sys/seal-status" })).toMatchObject({ status: 200, json: { type: "shamir", sealed: true } });
      expect(await vaultRequest(endpoint, { method: "GET", path: "auth/token/lookup-self", token: dev.vault.rootToken })).toMatchObject({ status: 503, json: { errors: ["Vault is sealed"] } });
    } finally {
      dev.vault.unseal();
    }
  });

  it("429 and 5xx are retried within the attempts, then reported", async () => {
    const ref = refFor("custody-acme");
    dev.vault.faults.failNext(2, 429, "transit/encrypt");
    await acme.encrypt(ref, randomBytes(32), binding(TENANT.id));

    dev.vault.faults.failNext(3, 503, "transit/decrypt");
    const ciphertext = await acme.encrypt(ref, randomBytes(32), binding(TENANT.id));
    expect(await failure(acme.decrypt(ref, ciphertext, binding(TENANT.id)))).toMatchObject({ kind: "unreachable", code: "HTTP503" });

    dev.vault.faults.failNext(3, 429, "transit/encrypt");
    expect(await failure(acme.encrypt(ref, randomBytes(32), binding(TENANT.id)))).toMatchObject({ kind: "throttled", code: "HTTP429" });
    dev.vault.faults.reset();
  });

  it("a Vault that does not answer in time is unreachable (timeout)", async () => {
    const creds = await customerSetUp("slow", { slug: "slow" });
    const client = clientWith([approleServer(creds)], { timeoutMs: 300, maxAttempts: 1 });
    await client.readKey(refFor("slow"));
    dev.vault.faults.delayNext(60_000, 1);
    expect(await failure(client.readKey(refFor("slow")))).toMatchObject({ kind: "unreachable", code: "ETIMEDOUT" });
    dev.vault.faults.reset();
  });

  it("a server certificate from a CA Custody was not given is refused as TLS", async () => {
    const client = clientWith([{ ...approleServer({ roleId: "x", secretId: "y" }), caPem: undefined }], { maxAttempts: 3 });
    const error = await failure(client.readKey(refFor("custody-acme")));
    expect(error.kind).toBe("unreachable");
    expect(error.code).toMatch(/^TLS:/);
  });
});

describe("namespaces and persistence", () => {
  it("a key in a namespace is reached with the namespace's AppRole", async () => {
    await dev.admin({ method: "POST", path: "sys/namespaces/customers" });
    await dev.admin({ method: "POST", path: "sys/mounts/transit", body: { type: "transit" } }, "customers");
    await dev.admin({ method: "POST", path: "sys/auth/approle", body: { type: "approle" } }, "customers");
    const creds = await customerSetUp("in-namespace", { namespace: "customers", slug: "ns" });
    const client = clientWith([approleServer(creds, "customers")]);
    const plaintext = randomBytes(32);
    const ciphertext = await client.encrypt(refFor("in-namespace", "customers"), plaintext, binding(TENANT.id));
    expect((await client.decrypt(refFor("in-namespace", "customers"), ciphertext, binding(TENANT.id))).equals(plaintext)).toBe(true);
    // The same AppRole means nothing in the root namespace.
    const root = clientWith([approleServer(creds)]);
    expect((await failure(root.readKey(refFor("in-namespace")))).kind).toBe("credentials");
  });

  it("keys, policies and AppRoles survive a restart of the development Vault", async () => {
    const creds = await customerSetUp("durable", { slug: "durable" });
    const plaintext = randomBytes(32);
    const before = await clientWith([approleServer(creds)]).encrypt(refFor("durable"), plaintext, binding(TENANT.id));
    await dev.restart();
    const after = clientWith([approleServer(creds)]);
    expect((await after.decrypt(refFor("durable"), before, binding(TENANT.id))).equals(plaintext)).toBe(true);
  });
});
