import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { disconnectDb, getDb } from "@/lib/db";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_PRINCIPALS, DEV_KMS_VENDOR, devKmsClientConfig } from "@/lib/dev-kms/defaults";
import { type DevKms, startDevKms } from "@/lib/dev-kms/server";
import { AppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import { listKmsKeys, registerKmsKey, restoreAccess, REVOCATION_CHANNEL, revokeAccess, verifyKmsKey } from "@/lib/keys";
import { keyPolicyAdmitting } from "@/lib/keys/grant-instructions";
import { setKmsForTests } from "@/lib/kms";
import { createAwsKmsProvider, DEFAULT_AWS_KMS_CONFIG } from "@/lib/kms/aws-provider";
import { addMember, type Caller, createTenant } from "@/lib/tenants";
import { createTestDatabase } from "../helpers/db";

// The customer-key flows (register, verify, revoke, restore) against real PostgreSQL and the
// development KMS through the real AWS SDK, including attempts to cross tenants.

const request: RequestMeta = { sourceIp: "198.51.100.9", userAgent: "vitest", requestId: "req-keys" };
let database: { url: string; drop: () => Promise<void> };
let kms: DevKms;
let customer: KMSClient;
let dataDir: string;
let vendor: Caller;

async function callerFor(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

async function newTenant(slug: string) {
  const { tenantId } = await createTenant(vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
  const admin = await callerFor(`admin@${slug}.example`);
  await addMember(admin, { tenantId, email: `auditor@${slug}.example`, role: "auditor" });
  return { tenantId, slug, admin, auditor: await callerFor(`auditor@${slug}.example`) };
}

/** A key in the customer's account whose policy lets Custody in for `tenantId` (or nobody but the account). */
async function customerKey(tenant?: { tenantId: string; slug: string }): Promise<string> {
  const policy = keyPolicyAdmitting({
    accountId: DEV_KMS_ACCOUNT_ID,
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    tenants: tenant ? [{ tenantId: tenant.tenantId, tenantSlug: tenant.slug }] : [],
  });
  const { KeyMetadata } = await customer.send(new CreateKeyCommand({ Policy: policy }));
  return KeyMetadata!.Arn!;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function trail(tenantId: string) {
  return getDb().auditEvent.findMany({ where: { tenantId }, orderBy: { seq: "asc" } });
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-keys-test-"));
  kms = await startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS });
  customer = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  setKmsForTests({
    partition: "aws",
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    provider: createAwsKmsProvider({
      ...DEFAULT_AWS_KMS_CONFIG,
      partition: "aws",
      endpoint: kms.endpoint,
      credentials: { accessKeyId: DEV_KMS_VENDOR.accessKeyId, secretAccessKey: DEV_KMS_VENDOR.secretAccessKey },
    }),
  });
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
});

afterAll(async () => {
  setKmsForTests(undefined);
  customer?.destroy();
  await kms?.close();
  await disconnectDb();
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("registering a key", () => {
  it("refuses malformed, alias and foreign-partition ARNs with a clear message and records nothing", async () => {
    const t = await newTenant("reg-bad");
    for (const [arn, message] of [
      ["not-an-arn", /not a KMS key ARN/],
      ["arn:aws:kms:us-east-1:111122223333:alias/prod", /alias ARN/],
      ["arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", /partition/],
    ] as const) {
      const error = await refusal(registerKmsKey(t.admin, { tenantId: t.tenantId, arn }));
      expect(error.code).toBe("bad_request");
      expect(error.fieldErrors?.arn?.[0]).toMatch(message);
    }
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
  });

  it("refuses an ARN another tenant registered without saying which, and audits the attempt", async () => {
    const a = await newTenant("reg-a");
    const b = await newTenant("reg-b");
    const arn = await customerKey(a);
    await registerKmsKey(a.admin, { tenantId: a.tenantId, arn });
    const error = await refusal(registerKmsKey(b.admin, { tenantId: b.tenantId, arn }));
    expect(error.code).toBe("conflict");
    expect(error.message).not.toContain("reg-a");
    expect(error.message).not.toContain(a.tenantId);
    const denied = (await trail(b.tenantId)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => e.action)).toEqual(["key.registered"]);
    expect(await getDb().kmsKey.count({ where: { tenantId: b.tenantId } })).toBe(0);
  });

  it("lets an auditor see keys but not register one", async () => {
    const t = await newTenant("reg-auditor");
    const error = await refusal(registerKmsKey(t.auditor, { tenantId: t.tenantId, arn: await customerKey(t) }));
    expect(error.code).toBe("forbidden");
    expect((await listKmsKeys(t.auditor, t.tenantId)).keys).toEqual([]);
  });
});

describe("verifying", () => {
  it("makes a verified key primary, stores only the wrapped tenant key, and audits each step", async () => {
    const t = await newTenant("verify-ok");
    const { kmsKeyId } = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn: await customerKey(t) });
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => [s.step, s.ok])).toEqual([
      ["DescribeKey", true],
      ["GenerateDataKey", true],
      ["Decrypt", true],
    ]);
    const overview = await listKmsKeys(t.auditor, t.tenantId);
    expect(overview.primaryKmsKeyId).toBe(kmsKeyId);
    expect(overview.keys[0]).toMatchObject({ status: "ACTIVE", isPrimary: true });
    const [tenantKey] = await getDb().tenantKey.findMany({ where: { tenantId: t.tenantId } });
    expect(tenantKey!.wrappedKey.length).toBeGreaterThan(32);
    expect(Buffer.from(tenantKey!.wrappedKey).subarray(0, 4).toString()).toBe("CDKM");
    expect((await trail(t.tenantId)).slice(-3).map((e) => e.action)).toEqual(["key.registered", "key.verified", "access.granted"]);
  });

  it("explains a key whose policy does not let Custody in, and grants nothing", async () => {
    const t = await newTenant("verify-denied");
    const { kmsKeyId } = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn: await customerKey() });
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.ok).toBe(false);
    const failed = result.steps.find((s) => !s.ok)!;
    expect(failed.step).toBe("DescribeKey");
    expect(failed.message).toMatch(/does not allow Custody's AWS principal to call kms:DescribeKey/);
    expect(failed.message).not.toMatch(/arn:aws:iam/);
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(overview.primaryKmsKeyId).toBeNull();
    expect(overview.keys[0]).toMatchObject({ status: "ERROR" });
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
    const last = (await trail(t.tenantId)).at(-1)!;
    expect(last).toMatchObject({ action: "key.verify_failed", outcome: "FAILURE", details: { step: "DescribeKey", reason: "access_denied" } });
  });

  it("names the key state when the customer disabled the key", async () => {
    const t = await newTenant("verify-disabled");
    const arn = await customerKey(t);
    const { kmsKeyId } = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn });
    await customer.send(new DisableKeyCommand({ KeyId: arn }));
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.steps.find((s) => !s.ok)?.message).toMatch(/disabled/);
  });

  it("reports KMS trouble during verification plainly, keeps the current primary, and audits it", async () => {
    const t = await newTenant("verify-kms-down");
    const first = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn: await customerKey(t) });
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: first.kmsKeyId });
    const second = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn: await customerKey(t) });
    kms.faults.throttleNext(10);
    try {
      const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: second.kmsKeyId });
      expect(result.ok).toBe(false);
      expect(result.steps[0]).toMatchObject({ step: "DescribeKey", ok: false, message: expect.stringMatching(/throttling/) });
    } finally {
      kms.faults.reset();
    }
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(overview.primaryKmsKeyId).toBe(first.kmsKeyId);
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId } })).toBe(1);
    expect((await trail(t.tenantId)).at(-1)).toMatchObject({ action: "key.verify_failed", details: { reason: "throttled" } });
  });

  it("refuses verifying another tenant's key, by either tenant id", async () => {
    const a = await newTenant("verify-a");
    const b = await newTenant("verify-b");
    const { kmsKeyId } = await registerKmsKey(a.admin, { tenantId: a.tenantId, arn: await customerKey(a) });
    expect((await refusal(verifyKmsKey(b.admin, { tenantId: b.tenantId, kmsKeyId }))).code).toBe("not_found");
    expect((await refusal(verifyKmsKey(b.admin, { tenantId: a.tenantId, kmsKeyId }))).code).toBe("forbidden");
    expect((await listKmsKeys(a.admin, a.tenantId)).keys[0]?.status).toBe("PENDING_VERIFICATION");
    // The refusal is on the vendor chain, not in A's trail: B's admin is no member of A.
    expect((await trail(a.tenantId)).filter((e) => e.outcome === "DENIED")).toEqual([]);
    const refused = await getDb().auditEvent.findMany({ where: { chain: "vendor", action: "key.verified", outcome: "DENIED" } });
    expect(refused.map((e) => [e.actorLabel, e.targetId, e.details])).toEqual([
      ["admin@verify-b.example", kmsKeyId, { reason: "not a member of this tenant", targetTenantId: a.tenantId }],
    ]);
  });
});

describe("revoking and restoring", () => {
  async function activeTenant(slug: string) {
    const t = await newTenant(slug);
    const arn = await customerKey(t);
    const { kmsKeyId } = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn });
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    return { ...t, arn, kmsKeyId };
  }

  it("revokes at once, announces it to listeners, and refuses a second revocation", async () => {
    const t = await activeTenant("revoke");
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.payload ?? ""));
    await listener.query(`LISTEN ${REVOCATION_CHANNEL}`);
    try {
      const result = await revokeAccess(t.admin, { tenantId: t.tenantId });
      expect(result.tenantKeys).toBe(1);
      await expect.poll(() => heard, { timeout: 1000 }).toEqual([t.tenantId]);
    } finally {
      await listener.end();
    }
    const overview = await listKmsKeys(t.auditor, t.tenantId);
    expect(overview.accessRevokedAt).not.toBeNull();
    expect(overview.accessRevokedBy).toBe(`admin@${t.slug}.example`);
    expect(overview.keys[0]?.status).toBe("REVOKED");
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId, status: "ACTIVE" } })).toBe(0);

    const again = await refusal(revokeAccess(t.admin, { tenantId: t.tenantId }));
    expect(again.code).toBe("conflict");
    const events = await trail(t.tenantId);
    expect(events.filter((e) => e.action === "access.revoked").map((e) => e.outcome)).toEqual(["SUCCESS", "DENIED"]);
  });

  it("keeps auditors and other tenants from revoking", async () => {
    const t = await activeTenant("revoke-guard");
    const other = await newTenant("revoke-other");
    expect((await refusal(revokeAccess(t.auditor, { tenantId: t.tenantId }))).code).toBe("forbidden");
    expect((await refusal(revokeAccess(other.admin, { tenantId: t.tenantId }))).code).toBe("forbidden");
    expect((await listKmsKeys(t.admin, t.tenantId)).accessRevokedAt).toBeNull();
  });

  it("restores only after a fresh successful verification", async () => {
    const t = await activeTenant("restore");
    expect((await refusal(restoreAccess(t.admin, { tenantId: t.tenantId }))).code).toBe("conflict");
    await revokeAccess(t.admin, { tenantId: t.tenantId });

    await customer.send(new DisableKeyCommand({ KeyId: t.arn }));
    const failed = await restoreAccess(t.admin, { tenantId: t.tenantId });
    expect(failed.restored).toBe(false);
    expect((await listKmsKeys(t.admin, t.tenantId)).accessRevokedAt).not.toBeNull();

    await customer.send(new EnableKeyCommand({ KeyId: t.arn }));
    const restored = await restoreAccess(t.admin, { tenantId: t.tenantId });
    expect(restored.restored).toBe(true);
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(overview.accessRevokedAt).toBeNull();
    expect(overview.keys[0]).toMatchObject({ status: "ACTIVE", isPrimary: true });
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId, status: "ACTIVE" } })).toBe(1);
    const outcomes = (await trail(t.tenantId)).filter((e) => e.action === "access.restored").map((e) => e.outcome);
    expect(outcomes).toEqual(["DENIED", "FAILURE", "SUCCESS"]);
  });

  it("keeps the previous key for unwraps when a new key becomes primary", async () => {
    const t = await activeTenant("rotate");
    const { kmsKeyId: second } = await registerKmsKey(t.admin, { tenantId: t.tenantId, arn: await customerKey(t) });
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: second });
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(Object.fromEntries(overview.keys.map((k) => [k.id, k.status]))).toEqual({ [t.kmsKeyId]: "PREVIOUS", [second]: "ACTIVE" });
    expect(overview.primaryKmsKeyId).toBe(second);
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId, status: "ACTIVE" } })).toBe(2);
  });
});
