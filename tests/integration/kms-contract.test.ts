import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import type { Caller } from "@/lib/authz";
import { createServiceCredential } from "@/lib/credentials";
import { disconnectDb, getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import { registerKmsKey, restoreAccess, revokeAccess, verifyKmsKey } from "@/lib/keys";
import { type KeyService, startKeyService } from "@/lib/keyservice";
import type { KmsProviderName } from "@/lib/kms";
import type { ContractFault, ContractKey, ContractTenant, KmsContractHarness } from "@/lib/kms/contract-harness";
import { startAwsContractHarness } from "@/lib/kms/providers/aws/contract-harness";
import { startGcpContractHarness } from "@/lib/kms/providers/gcp/contract-harness";
import { startVaultContractHarness } from "@/lib/kms/providers/vault/contract-harness";
import { startAzureContractHarness } from "@/lib/kms/providers/azure/contract-harness";
import { createTenant } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";

// The KMS contract: the same cases against every registered provider, through the console's
// and the key service's own code and each provider's real client library pointed at its
// development server. A provider supplies only its harness (lib/kms/providers/<name>/
// contract-harness.ts); this map does not compile until every provider has one.
const HARNESSES = {
  aws: startAwsContractHarness,
  gcp: startGcpContractHarness,
  vault: startVaultContractHarness,
  azure: startAzureContractHarness,
} satisfies Record<KmsProviderName, () => Promise<KmsContractHarness>>;

const request: RequestMeta = { sourceIp: "198.51.100.7", userAgent: "custody-contract", requestId: "req-contract" };
const metadata = { dataLabel: "invoices", objectId: "inv-1", actor: "user:42", reason: "render" };
/** Attempts per KMS call: one passing fault is retried away. */
const ATTEMPTS = 3;
/** A fault that outlasts every retry a client makes (some retry throttling beyond maxAttempts). */
const LASTING = 20;
const REQUEST_TIMEOUT_MS = 500;

let database: TestDatabase;
let vendor: Caller;
let tenantCount = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = { userId: (await getDb().user.findUniqueOrThrow({ where: { email: "ops@vendor.example" } })).id, request };
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe.each(Object.entries(HARNESSES) as Array<[KmsProviderName, () => Promise<KmsContractHarness>]>)("the KMS contract: %s", (provider, start) => {
  let harness: KmsContractHarness;
  let keyService: { service: KeyService; stop(): Promise<void> };
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    harness = await start();
    for (const [name, value] of Object.entries(harness.configEnv)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    harness.useClient({ maxAttempts: ATTEMPTS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    keyService = await startKeyService({ leaseSeconds: 300 });
  });

  afterEach(() => harness.clearFaults());

  afterAll(async () => {
    await keyService?.stop();
    await harness?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function newTenant(): Promise<ContractTenant & { admin: Caller }> {
    const slug = `${provider}-contract-${++tenantCount}`;
    const { tenantId } = await createTenant(vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
    const admin = { userId: (await getDb().user.findUniqueOrThrow({ where: { email: `admin@${slug}.example` } })).id, request };
    return { tenantId, slug, admin };
  }

  const register = (tenant: { tenantId: string; admin: Caller }, key: ContractKey) =>
    registerKmsKey(tenant.admin, { tenantId: tenant.tenantId, provider, fields: key });

  async function verified(tenant: ContractTenant & { admin: Caller }) {
    const key = await harness.keyAdmitting(tenant);
    const { kmsKeyId } = await register(tenant, key);
    const result = await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId });
    expect(result, JSON.stringify(result.steps)).toMatchObject({ ok: true, becamePrimary: true });
    return { key, kmsKeyId };
  }

  async function serviceCall(tenantId: string) {
    const { token } = await createServiceCredential(vendor, { name: `app-${tenantId.slice(0, 8)}`, scopes: ["wrap", "unwrap"], tenantId });
    const credential = await keyService.service.authenticate(token);
    if (!credential) throw new Error("the new credential did not authenticate");
    return { credential, request };
  }

  async function verifyFailure(key: ContractKey) {
    const tenant = await newTenant();
    const { kmsKeyId } = await register(tenant, key);
    const result = await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId });
    const stored = await getDb().kmsKey.findUniqueOrThrow({ where: { id: kmsKeyId } });
    const primary = await getDb().tenant.findUniqueOrThrow({ where: { id: tenant.tenantId }, select: { primaryKmsKeyId: true } });
    return { result, stored, primary: primary.primaryKmsKeyId, tenant };
  }

  it("refuses malformed input with the provider's own message by field, and stores nothing", async () => {
    const tenant = await newTenant();
    const { key, field } = harness.malformed();
    const error = await refusal(register(tenant, key));
    expect(error.code).toBe("bad_request");
    expect(error.fieldErrors?.[field]?.[0]).toMatch(/\w+/);
    const unknown = await refusal(registerKmsKey(tenant.admin, { tenantId: tenant.tenantId, provider: "thales", fields: key }));
    expect(unknown).toMatchObject({ code: "bad_request", fieldErrors: { provider: [expect.any(String)] } });
    expect(await getDb().kmsKey.count({ where: { tenantId: tenant.tenantId } })).toBe(0);
  });

  it("registers and verifies a key that admits Custody: the provider's three steps, then primary", async () => {
    const tenant = await newTenant();
    const { kmsKeyId } = await verified(tenant);
    const stored = await getDb().kmsKey.findUniqueOrThrow({ where: { id: kmsKeyId } });
    expect(stored).toMatchObject({ provider, status: "ACTIVE", lastAttemptOk: true });
    const steps = stored.lastVerifySteps as Array<{ ok: boolean }>;
    expect(steps).toHaveLength(3);
    expect(steps.every((step) => step.ok)).toBe(true);
    expect(await getDb().tenantKey.count({ where: { tenantId: tenant.tenantId, kmsKeyId } })).toBe(1);
  });

  it("refuses a key that does not admit Custody, says so in plain words, and changes nothing", async () => {
    const { result, stored, primary } = await verifyFailure(await harness.keyRefusing());
    expect(result).toMatchObject({ ok: false, failure: "access_denied" });
    expect(stored).toMatchObject({ status: "PENDING_VERIFICATION", lastAttemptOk: false, lastErrorKind: "access_denied" });
    expect(stored.lastError).not.toMatch(/Exception|not authorized|User:|\n/);
    expect(primary).toBeNull();
  });

  it("names a disabled key, and verifies it once it is enabled again", async () => {
    const tenant = await newTenant();
    const key = await harness.keyAdmitting(tenant);
    await harness.disable(key);
    const { kmsKeyId } = await register(tenant, key);
    expect(await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId })).toMatchObject({ ok: false, failure: "key_disabled" });
    await harness.enable(key);
    expect(await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId })).toMatchObject({ ok: true, becamePrimary: true });
  });

  it("names a key that does not exist", async () => {
    const { result } = await verifyFailure(await harness.missingKey());
    expect(result.ok).toBe(false);
    expect(harness.missingKeyKinds ?? ["not_found"]).toContain(result.failure);
  });

  it("wraps and unwraps through the key service under one lease, and a key disabled in the KMS stops the next lease", async () => {
    const tenant = await newTenant();
    const { key } = await verified(tenant);
    const call = await serviceCall(tenant.tenantId);
    const calls = keyService.service.stats().kmsCalls;
    const wrapped = await keyService.service.wrap(call, { tenantId: tenant.tenantId, metadata });
    const again = await keyService.service.wrap(call, { tenantId: tenant.tenantId, metadata });
    const opened = await keyService.service.unwrap(call, { tenantId: tenant.tenantId, edek: wrapped.edek, metadata });
    expect(opened.dek).toBe(wrapped.dek);
    expect(again.edek).not.toBe(wrapped.edek);
    expect(keyService.service.stats().kmsCalls - calls).toBe(1);

    await harness.disable(key);
    const fresh = await startKeyService({ leaseSeconds: 300 });
    try {
      const freshCall = { credential: (await fresh.service.authenticate((await createServiceCredential(vendor, { name: `fresh-${tenant.slug}`, scopes: ["unwrap"], tenantId: tenant.tenantId })).token))!, request };
      const error = await fresh.service.unwrap(freshCall, { tenantId: tenant.tenantId, edek: wrapped.edek, metadata }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAppError(error) && error.code).toBe("kms_denied");
    } finally {
      await fresh.stop();
      await harness.enable(key);
    }
  });

  it("refuses at once on revocation, and restores after a fresh verification with the same data readable", async () => {
    const tenant = await newTenant();
    await verified(tenant);
    const call = await serviceCall(tenant.tenantId);
    const wrapped = await keyService.service.wrap(call, { tenantId: tenant.tenantId, metadata });

    await revokeAccess(tenant.admin, { tenantId: tenant.tenantId });
    await expect
      .poll(() => keyService.service.unwrap(call, { tenantId: tenant.tenantId, edek: wrapped.edek, metadata }).then(() => "allowed", (e: unknown) => (isAppError(e) ? e.code : "other")))
      .toBe("access_revoked");

    expect(await restoreAccess(tenant.admin, { tenantId: tenant.tenantId })).toMatchObject({ restored: true });
    await expect
      .poll(() => keyService.service.unwrap(call, { tenantId: tenant.tenantId, edek: wrapped.edek, metadata }).then((r) => r.dek, () => "refused"))
      .toBe(wrapped.dek);
  });

  it.each(["throttle", "server_error", "timeout"] as ContractFault[])("retries one %s away: verify succeeds", async (fault) => {
    const tenant = await newTenant();
    const key = await harness.keyAdmitting(tenant);
    const { kmsKeyId } = await register(tenant, key);
    harness.injectFault(fault, 1);
    const result = await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId });
    expect(result, JSON.stringify(result.steps)).toMatchObject({ ok: true });
  });

  it.each([
    ["throttle", "throttled", "kms_throttled"],
    ["server_error", "unreachable", "kms_unreachable"],
    ["timeout", "unreachable", "kms_unreachable"],
  ] as Array<[ContractFault, string, string]>)("maps a lasting %s to %s (and the key service to %s)", async (fault, kind, code) => {
    const tenant = await newTenant();
    const key = await harness.keyAdmitting(tenant);
    const { kmsKeyId } = await register(tenant, key);
    harness.injectFault(fault, LASTING);
    expect(await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId })).toMatchObject({ ok: false, failure: kind });
    harness.clearFaults();

    await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId });
    const fresh = await startKeyService({ leaseSeconds: 300 });
    try {
      const { token } = await createServiceCredential(vendor, { name: `fault-${tenant.slug}`, scopes: ["wrap"], tenantId: tenant.tenantId });
      const call = { credential: (await fresh.service.authenticate(token))!, request };
      harness.injectFault(fault, LASTING);
      const error = await fresh.service.wrap(call, { tenantId: tenant.tenantId, metadata }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAppError(error) && error.code).toBe(code);
    } finally {
      await fresh.stop();
    }
  });
});
