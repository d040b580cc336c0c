import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateGrantCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient, type GrantOperation } from "@aws-sdk/client-kms";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { disconnectDb, getDb } from "@/lib/db";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_PRINCIPALS, DEV_KMS_ROLES, DEV_KMS_VENDOR, devKmsClientConfig } from "@/lib/dev/kms/defaults";
import { type DevKms, startDevKms } from "@/lib/dev/kms/server";
import type { RequestMeta } from "@/lib/http/request-meta";
import {
  listKmsKeys,
  PROPAGATION_WINDOW_MS,
  registerKmsKey,
  removeKmsKey,
  restoreAccess,
  REVOCATION_CHANNEL,
  revokeAccess,
  setKeyGrants,
  verifyKmsKey,
  type VerifyProgress,
} from "@/lib/keys";
import { grantInstructions, keyPolicyAdmitting, vendorIamPolicy } from "@/lib/kms/providers/aws/instructions";
import { kmsClient } from "@/lib/kms";
import type { Caller } from "@/lib/authz";
import { addMember, createTenant } from "@/lib/tenants";
import { createTestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";
import { awsKeyInput, pointAwsKmsAt } from "../helpers/aws-kms";

// The customer-key flows (register, verify, revoke, restore) against real PostgreSQL and the
// development KMS through the real AWS SDK, including attempts to cross tenants. As in
// production, Custody's role is in the vendor's own account (999988887777) with its own IAM
// policy, and the keys are in the customer's account (111122223333). The dev KMS's clock is
// this file's: tests that wait for AWS to apply a change move it forward instead of sleeping.

const request: RequestMeta = { sourceIp: "198.51.100.9", userAgent: "vitest", requestId: "req-keys" };
let database: { url: string; drop: () => Promise<void> };
let kms: DevKms;
let customer: KMSClient;
let dataDir: string;
let vendor: Caller;
let undoKms: (() => void) | undefined;
/** Added to the dev KMS's clock (ms). */
let clockOffset = 0;
const kmsClock = () => Date.now() + clockOffset;

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

async function trail(tenantId: string) {
  return getDb().auditEvent.findMany({ where: { tenantId }, orderBy: { seq: "asc" } });
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-keys-test-"));
  kms = await startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS, roles: DEV_KMS_ROLES, clock: kmsClock });
  customer = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  undoKms = pointAwsKmsAt(kms.endpoint);
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
});

afterAll(async () => {
  undoKms?.();
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
      const error = await refusal(registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn)));
      expect(error.code).toBe("bad_request");
      expect(error.fieldErrors?.arn?.[0]).toMatch(message);
    }
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
  });

  it("refuses an ARN another tenant verified without saying which, and audits the attempt", async () => {
    const a = await newTenant("reg-a");
    const b = await newTenant("reg-b");
    const arn = await customerKey(a);
    const { kmsKeyId } = await registerKmsKey(a.admin, awsKeyInput(a.tenantId, arn));
    expect((await verifyKmsKey(a.admin, { tenantId: a.tenantId, kmsKeyId })).ok).toBe(true);
    const error = await refusal(registerKmsKey(b.admin, awsKeyInput(b.tenantId, arn)));
    expect(error.code).toBe("conflict");
    expect(error.message).not.toContain("reg-a");
    expect(error.message).not.toContain(a.tenantId);
    const denied = (await trail(b.tenantId)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => e.action)).toEqual(["key.registered"]);
    expect(await getDb().kmsKey.count({ where: { tenantId: b.tenantId } })).toBe(0);
  });

  it("does not let a pending registration squat another tenant's key, nor leak the key's state (issue 13)", async () => {
    const acme = await newTenant("squat-acme");
    const beta = await newTenant("squat-beta");
    const betaArn = await customerKey(beta);
    // Acme's admin registers Beta's ARN first.
    const squat = await registerKmsKey(acme.admin, awsKeyInput(acme.tenantId, betaArn));
    // Acme's verify learns nothing about Beta's key: refused at the tenant-bound first step.
    const probe = await verifyKmsKey(acme.admin, { tenantId: acme.tenantId, kmsKeyId: squat.kmsKeyId });
    expect(probe.ok).toBe(false);
    expect(probe.steps.map((s) => [s.step, s.ok])).toEqual([
      ["GenerateDataKey", false],
      ["Decrypt", false],
      ["DescribeKey", false],
    ]);
    expect(probe.steps.map((s) => s.message).join(" ")).not.toMatch(/enabled|SYMMETRIC|ENCRYPT_DECRYPT/i);
    expect(probe.steps.slice(1).map((s) => s.message)).toEqual(["Not run.", "Not run."]);

    // Beta registers and verifies its own key all the same.
    const mine = await registerKmsKey(beta.admin, awsKeyInput(beta.tenantId, betaArn));
    expect((await verifyKmsKey(beta.admin, { tenantId: beta.tenantId, kmsKeyId: mine.kmsKeyId })).ok).toBe(true);

    // Now Acme's verify is refused before any KMS call, and audited on Acme's trail.
    const callsBefore = kms.calls();
    const refused = await refusal(verifyKmsKey(acme.admin, { tenantId: acme.tenantId, kmsKeyId: squat.kmsKeyId }));
    expect(refused.code).toBe("conflict");
    expect(refused.message).not.toContain("squat-beta");
    expect(kms.calls()).toEqual(callsBefore);
    expect((await trail(acme.tenantId)).filter((e) => e.outcome === "DENIED").map((e) => e.action)).toEqual(["key.verified"]);
    // …and Acme can remove its mistaken registration.
    await removeKmsKey(acme.admin, { tenantId: acme.tenantId, kmsKeyId: squat.kmsKeyId });
    expect(await getDb().kmsKey.count({ where: { tenantId: acme.tenantId } })).toBe(0);
  });

  it("lets an auditor see keys but not register one", async () => {
    const t = await newTenant("reg-auditor");
    const error = await refusal(registerKmsKey(t.auditor, awsKeyInput(t.tenantId, await customerKey(t))));
    expect(error.code).toBe("forbidden");
    expect((await listKmsKeys(t.auditor, t.tenantId)).keys).toEqual([]);
  });
});

describe("verifying", () => {
  it("makes a verified key primary, stores only the wrapped tenant key, and audits each step", async () => {
    const t = await newTenant("verify-ok");
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => [s.step, s.ok])).toEqual([
      ["GenerateDataKey", true],
      ["Decrypt", true],
      ["DescribeKey", true],
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
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey()));
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.ok).toBe(false);
    const failed = result.steps.find((s) => !s.ok)!;
    expect(failed.step).toBe("GenerateDataKey");
    expect(failed.message).toMatch(/^Your key policy \(or grant\) does not allow Custody's AWS principal to call kms:GenerateDataKey/);
    expect(failed.message).not.toMatch(/arn:aws:iam/);
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(overview.primaryKmsKeyId).toBeNull();
    // A failed attempt is not a state: the key stays pending, never verified, its attempt recorded.
    expect(overview.keys[0]).toMatchObject({ status: "PENDING_VERIFICATION", lastVerifiedAt: null, lastAttemptOk: false, lastErrorKind: "access_denied" });
    expect(overview.keys[0]?.lastAttemptAt).toBeInstanceOf(Date);
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
    const last = (await trail(t.tenantId)).at(-1)!;
    expect(last).toMatchObject({ action: "key.verify_failed", outcome: "FAILURE", details: { step: "GenerateDataKey", reason: "access_denied" } });
  });

  it("names the key state when the customer disabled the key", async () => {
    const t = await newTenant("verify-disabled");
    const arn = await customerKey(t);
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn));
    await customer.send(new DisableKeyCommand({ KeyId: arn }));
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(result.steps.find((s) => !s.ok)?.message).toMatch(/disabled/);
  });

  it("reports KMS trouble during verification plainly, keeps the current primary, and audits it", async () => {
    const t = await newTenant("verify-kms-down");
    const first = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: first.kmsKeyId });
    const second = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    kms.faults.throttleNext(10);
    try {
      const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: second.kmsKeyId });
      expect(result.ok).toBe(false);
      expect(result.steps[0]).toMatchObject({ step: "GenerateDataKey", ok: false, message: expect.stringMatching(/throttling/) });
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
    const { kmsKeyId } = await registerKmsKey(a.admin, awsKeyInput(a.tenantId, await customerKey(a)));
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
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn));
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
      await expect.poll(() => heard, { timeout: 20_000 }).toEqual([t.tenantId]);
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
    const { kmsKeyId: second } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: second });
    const overview = await listKmsKeys(t.admin, t.tenantId);
    expect(Object.fromEntries(overview.keys.map((k) => [k.id, k.status]))).toEqual({ [t.kmsKeyId]: "PREVIOUS", [second]: "ACTIVE" });
    expect(overview.primaryKmsKeyId).toBe(second);
    expect(await getDb().tenantKey.count({ where: { tenantId: t.tenantId, status: "ACTIVE" } })).toBe(2);
  });
});

/** A key in the customer's account that only the account administers: Custody gets in by grant. */
async function grantOnlyKey(): Promise<string> {
  return customerKey();
}

/** Makes the grant Custody's instructions show for `tenant` on `keyArn`, as the customer would. */
async function grantAsCustomer(keyArn: string, tenant: { tenantId: string; slug: string }): Promise<string> {
  const { createGrantCommands } = grantInstructions({
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    keyArn,
    region: "us-east-1",
    tenantId: tenant.tenantId,
    tenantSlug: tenant.slug,
  });
  const words = createGrantCommands.split(" ");
  const operations = words.slice(words.indexOf("--operations") + 1, words.indexOf("--constraints")) as GrantOperation[];
  const { GrantId } = await customer.send(
    new CreateGrantCommand({
      KeyId: keyArn,
      GranteePrincipal: DEV_KMS_VENDOR.arn,
      RetiringPrincipal: DEV_KMS_VENDOR.arn,
      Operations: operations,
      Constraints: { EncryptionContextSubset: { tenant_id: tenant.tenantId } },
    }),
  );
  return GrantId!;
}

describe("cross-account: Custody's role in the vendor's account", () => {
  it("names the vendor's side when the role has no IAM policy, and the customer's when the key policy lacks the statement", async () => {
    const t = await newTenant("xa-iam");
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    kms.setIdentityPolicy(DEV_KMS_VENDOR.arn, undefined);
    try {
      // The key policy is right; the vendor's role has no IAM policy: AWS refuses cross-account.
      const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId }, { propagationWindowMs: PROPAGATION_WINDOW_MS, sleep: async () => {
        throw new Error("a refusal on the vendor's side is not waited out");
      } });
      expect(result).toMatchObject({ ok: false, failure: "access_denied_vendor", attempts: 1 });
      const failed = result.steps.find((s) => !s.ok)!;
      expect(failed.message).toMatch(/^The vendor's own AWS role lacks an IAM policy for kms:GenerateDataKey\. This is on the vendor, not on your key/);
      const [key] = (await listKmsKeys(t.admin, t.tenantId)).keys;
      expect(key).toMatchObject({ status: "PENDING_VERIFICATION", lastErrorKind: "access_denied_vendor" });
    } finally {
      kms.setIdentityPolicy(DEV_KMS_VENDOR.arn, vendorIamPolicy(DEV_KMS_VENDOR.arn));
    }
    // With the least-privilege IAM policy the vendor console shows, the same key verifies.
    expect((await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId })).ok).toBe(true);
  });

  it("reports an explicit Deny in the key policy at once, as the customer's", async () => {
    const t = await newTenant("xa-deny");
    const policy = JSON.parse(keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId: t.tenantId, tenantSlug: t.slug }] }));
    policy.Statement.push({ Sid: "NoCustody", Effect: "Deny", Principal: { AWS: DEV_KMS_VENDOR.arn }, Action: "kms:GenerateDataKey", Resource: "*" });
    const { KeyMetadata } = await customer.send(new CreateKeyCommand({ Policy: JSON.stringify(policy) }));
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, KeyMetadata!.Arn!));
    const progress: VerifyProgress[] = [];
    const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId }, { propagationWindowMs: PROPAGATION_WINDOW_MS, onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ ok: false, failure: "access_denied_explicit", attempts: 1 });
    expect(result.steps[0]?.message).toMatch(/^A Deny statement on your side/);
    expect(progress).toEqual([]);
  });

  it("works with the one grant Custody asks for; revocation retires every grant and the vendor is then refused, DescribeKey included", async () => {
    const t = await newTenant("xa-grant");
    const arn = await grantOnlyKey();
    const first = await grantAsCustomer(arn, t);
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn, first));
    expect((await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId })).ok).toBe(true);
    // A second grant, added after registration (e.g. made while rotating), is kept too.
    const second = await grantAsCustomer(arn, t);
    await setKeyGrants(t.admin, { tenantId: t.tenantId, kmsKeyId, grantIds: `${first}\n${second}` });
    expect((await listKmsKeys(t.admin, t.tenantId)).keys[0]?.revocationHandles).toEqual([first, second]);
    expect((await trail(t.tenantId)).at(-1)).toMatchObject({ action: "key.grants_changed", details: { grants: 2, added: 1, removed: 0 } });

    const result = await revokeAccess(t.admin, { tenantId: t.tenantId });
    expect(result.kmsSide.map((g) => [g.item, g.done])).toEqual([
      [`grant ${first.slice(0, 12)}…`, true],
      [`grant ${second.slice(0, 12)}…`, true],
    ]);
    const key = { provider: "aws" as const, ref: arn, details: {} };
    await expect(kmsClient("aws").describeKey(key)).rejects.toMatchObject({ kind: "access_denied" });
    await expect(kmsClient("aws").generateTenantKey(key, { tenantId: t.tenantId })).rejects.toMatchObject({ kind: "access_denied" });
    expect((await trail(t.tenantId)).filter((e) => e.action === "key.grant_retired").map((e) => e.outcome)).toEqual(["SUCCESS", "SUCCESS"]);
  });

  it("refuses a grant id of the wrong shape with a clear message and stores nothing", async () => {
    const t = await newTenant("xa-grant-bad");
    const arn = await grantOnlyKey();
    const error = await refusal(registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn, "not-a-grant")));
    expect(error).toMatchObject({ code: "bad_request", fieldErrors: { grantIds: [expect.stringMatching(/is not a grant id: a grant id is 64 hexadecimal characters/)] } });
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn));
    const again = await refusal(setKeyGrants(t.admin, { tenantId: t.tenantId, kmsKeyId, grantIds: `${"a".repeat(64)} xyz` }));
    expect(again.code).toBe("bad_request");
    expect((await listKmsKeys(t.admin, t.tenantId)).keys[0]?.revocationHandles).toEqual([]);
    expect((await refusal(setKeyGrants(t.auditor, { tenantId: t.tenantId, kmsKeyId, grantIds: "a".repeat(64) }))).code).toBe("forbidden");
  });
});

describe("AWS applying a new grant takes time", () => {
  it("keeps trying with visible progress until the grant applies, then succeeds", async () => {
    const t = await newTenant("prop-ok");
    const arn = await grantOnlyKey();
    const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn));
    kms.setPropagationDelay(40_000);
    try {
      await grantAsCustomer(arn, t);
      const progress: VerifyProgress[] = [];
      const result = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId }, {
        propagationWindowMs: PROPAGATION_WINDOW_MS,
        clock: kmsClock,
        sleep: async (ms) => {
          clockOffset += ms;
        },
        onProgress: (p) => progress.push(p),
      });
      expect(result.ok).toBe(true);
      expect(result.attempts).toBeGreaterThan(1);
      expect(progress.length).toBe(result.attempts - 1);
      expect(progress[0]).toMatchObject({ attempt: 1, failedStep: "GenerateDataKey" });
      expect(progress[0]!.remainingMs).toBeLessThanOrEqual(PROPAGATION_WINDOW_MS);
      expect(progress.at(-1)!.remainingMs).toBeLessThan(progress[0]!.remainingMs);
      expect((await listKmsKeys(t.admin, t.tenantId)).keys[0]).toMatchObject({ status: "ACTIVE", lastAttemptOk: true });
      expect((await trail(t.tenantId)).filter((e) => e.action === "key.verified").at(-1)).toMatchObject({ details: { attempts: result.attempts } });
    } finally {
      kms.setPropagationDelay(0);
    }
  });

  it("reports a refusal that waiting cannot cure at once, and gives up on a missing grant after the window", async () => {
    const t = await newTenant("prop-no");
    const disabled = await customerKey(t);
    await customer.send(new DisableKeyCommand({ KeyId: disabled }));
    const a = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, disabled));
    const sleeps: number[] = [];
    const options = { propagationWindowMs: 60_000, clock: kmsClock, sleep: async (ms: number) => {
      sleeps.push(ms);
      clockOffset += ms;
    } };
    const once = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: a.kmsKeyId }, options);
    expect(once).toMatchObject({ ok: false, failure: "key_disabled", attempts: 1 });
    expect(sleeps).toEqual([]);

    const b = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await grantOnlyKey()));
    const startedAt = kmsClock();
    const never = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: b.kmsKeyId }, options);
    expect(never).toMatchObject({ ok: false, failure: "access_denied" });
    expect(never.attempts).toBeGreaterThan(2);
    expect(kmsClock() - startedAt).toBeGreaterThanOrEqual(60_000);
  });
});

describe("keys registered by mistake", () => {
  it("lets an admin remove a key that never became usable (audited), and refuses one that wraps a tenant key", async () => {
    const t = await newTenant("remove");
    const wrong = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"));
    const failed = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: wrong.kmsKeyId });
    expect(failed).toMatchObject({ ok: false, failure: "not_found" });
    expect((await refusal(removeKmsKey(t.auditor, { tenantId: t.tenantId, kmsKeyId: wrong.kmsKeyId }))).code).toBe("forbidden");
    await removeKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: wrong.kmsKeyId });
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect((await trail(t.tenantId)).at(-1)).toMatchObject({ action: "key.removed", outcome: "SUCCESS", targetId: wrong.kmsKeyId });

    const good = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: good.kmsKeyId });
    const refused = await refusal(removeKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: good.kmsKeyId }));
    expect(refused).toMatchObject({ code: "conflict", message: expect.stringMatching(/wraps a tenant key/) });
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(1);
    expect((await trail(t.tenantId)).at(-1)).toMatchObject({ action: "key.removed", outcome: "DENIED" });
  });

  it("keeps a never-usable key pending through a revocation, and 'previous' only once a newer key is primary", async () => {
    const t = await newTenant("states");
    const first = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey(t)));
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: first.kmsKeyId });
    const mistake = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, await customerKey()));
    await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: mistake.kmsKeyId });
    const status = async () => Object.fromEntries((await listKmsKeys(t.admin, t.tenantId)).keys.map((k) => [k.id, k.status]));
    expect(await status()).toEqual({ [first.kmsKeyId]: "ACTIVE", [mistake.kmsKeyId]: "PENDING_VERIFICATION" });
    await revokeAccess(t.admin, { tenantId: t.tenantId });
    expect(await status()).toEqual({ [first.kmsKeyId]: "REVOKED", [mistake.kmsKeyId]: "PENDING_VERIFICATION" });
    await restoreAccess(t.admin, { tenantId: t.tenantId });
    expect(await status()).toEqual({ [first.kmsKeyId]: "ACTIVE", [mistake.kmsKeyId]: "PENDING_VERIFICATION" });
  });
});
