import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DisableKeyCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getDb, disconnectDb } from "@/lib/db";
import { registerKmsKey, verifyKmsKey } from "@/lib/keys";
import { resumeRotation, resumeRunningRotations, retireKmsKey, rollBackRotation, rotationOverview, runRotation, startRotation } from "@/lib/keys/rotation";
import { addMember } from "@/lib/tenants";
import type { Caller } from "@/lib/authz";
import { awsKeyInput } from "../helpers/aws-kms";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { ENCRYPTER_DECRYPTER, gcpKmsEnvironment, pointGcpKmsAt, startTestDevGcpKms, VIEWER, type TestDevGcpKms } from "../helpers/dev-gcp-kms";
import { vendorKmsEnvironment } from "../helpers/dev-kms";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { refusal } from "../helpers/refusal";
import { waitUntil } from "../helpers/wait";

// Rotating a tenant's KMS key (issue 16, "Rotation" 1) against real PostgreSQL, the development
// AWS KMS (customer keys in the customer's account, Custody's role in the vendor's) and the
// development Cloud KMS, through the official SDKs: every tenant key the old key wraps is
// re-wrapped under the new primary, EDEKs made before keep opening through real key-service
// processes (even once the old key is disabled), a KMS error stops the rotation (resume, or roll
// back without any KMS call), and a worker killed with SIGKILL leaves every key working and is
// taken over once its lease runs out.

const ROOT = path.resolve(__dirname, "../..");
// A backstop against a hang: these tests start key-service and worker processes on a busy machine.
vi.setConfig({ testTimeout: 300_000 });
let database: TestDatabase;
let fixture: KeyServiceFixture;
let gcp: TestDevGcpKms;
let dir: string;
let undoGcp: () => void = () => {};
let token: string;
let service: KeyServiceInstance;
let serviceEnv: Record<string, string>;

const meta = () => ({ dataLabel: "invoices", objectId: "inv-1", actor: "user:42", reason: "render" });

type Edek = { dek: string; edek: string };

async function wrap(tenantId: string, via = service): Promise<Edek> {
  const answer = await api<Edek>(via.url, token, "wrap", { tenantId, metadata: meta() });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/** Every EDEK opens to its data key through `via`. */
async function expectUnwrap(tenantId: string, edeks: Edek[], via = service): Promise<void> {
  for (const e of edeks) {
    const answer = await api<{ dek: string }>(via.url, token, "unwrap", { tenantId, edek: e.edek, metadata: meta() });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.dek).toBe(e.dek);
  }
}

/** A tenant on AWS key A with `tenantKeys` tenant keys under it (each verification makes one), an EDEK from each, and an auditor. */
async function tenantOnAws(slug: string, tenantKeys = 1): Promise<TenantWithKey & { edeks: Edek[]; auditor: Caller }> {
  const t = await fixture.tenantWithKey(slug);
  const edeks = [await wrap(t.tenantId)];
  for (let i = 1; i < tenantKeys; i++) {
    expect((await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId })).ok).toBe(true);
    edeks.push(await wrap(t.tenantId));
  }
  await addMember(t.admin, { tenantId: t.tenantId, email: `auditor@${slug}.example`, role: "auditor" });
  return { ...t, edeks, auditor: await fixture.callerFor(`auditor@${slug}.example`) };
}

/** A second AWS key in the customer's account, registered and verified: it becomes primary. */
async function newAwsPrimary(t: { tenantId: string; slug: string; admin: Caller }): Promise<{ arn: string; kmsKeyId: string }> {
  const arn = await fixture.customerKey({ tenantId: t.tenantId, slug: t.slug });
  const { kmsKeyId } = await registerKmsKey(t.admin, awsKeyInput(t.tenantId, arn));
  expect(await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId })).toMatchObject({ ok: true, becamePrimary: true });
  return { arn, kmsKeyId };
}

/**
 * The old key is disabled at the customer: every EDEK keeps opening through the running key
 * service, which re-leases each tenant key through `keyRef` (its leases last a second), as its
 * lease events on the tenant's trail show.
 */
async function expectOpensThrough(tenantId: string, edeks: Edek[], keyRef: string): Promise<void> {
  const since = (await getDb().auditEvent.aggregate({ where: { tenantId }, _max: { id: true } }))._max.id ?? 0n;
  const leases = async (after: boolean) => {
    const events = await getDb().auditEvent.findMany({
      where: { tenantId, action: "key.lease_acquired", outcome: "SUCCESS", id: after ? { gt: since } : { lte: since } },
      select: { details: true },
    });
    return events.map((e) => e.details as { tenantKeyId?: string; keyRef?: string });
  };
  // The tenant keys the EDEKs opened with so far.
  const used = new Set((await leases(false)).map((d) => d.tenantKeyId));
  await waitUntil(async () => {
    await expectUnwrap(tenantId, edeks);
    const through = new Set((await leases(true)).filter((d) => d.keyRef === keyRef).map((d) => d.tenantKeyId));
    return [...used].every((id) => through.has(id));
  }, "every tenant key leased through the new key", 90_000);
  await expectUnwrap(tenantId, edeks);
}

async function tenantKeys(tenantId: string) {
  return getDb().tenantKey.findMany({ where: { tenantId, status: "ACTIVE" }, orderBy: { createdAt: "asc" } });
}

async function actions(tenantId: string) {
  const events = await getDb().auditEvent.findMany({ where: { tenantId }, orderBy: { seq: "asc" } });
  return events.map((e) => [e.action, e.outcome, e.details] as const);
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  gcp = await startTestDevGcpKms();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-rotation-"));
  undoGcp = pointGcpKmsAt(gcp, dir);
  token = (await fixture.credential({ name: "rotation-app" })).token;
  serviceEnv = { ...gcpKmsEnvironment(gcp, dir), KEY_LEASE_SECONDS: "1" };
  service = await fixture.instance(serviceEnv);
});

afterAll(async () => {
  undoGcp();
  await fixture?.close();
  await gcp?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await disconnectDb();
  await database?.drop();
});

describe("rotating to a new AWS key", () => {
  it("re-wraps every tenant key under the new key; EDEKs made before open with the old key disabled; then the old key retires", async () => {
    const t = await tenantOnAws("rot-aws", 2);
    const b = await newAwsPrimary(t);
    t.edeks.push(await wrap(t.tenantId));

    const before = await rotationOverview(t.admin, t.tenantId);
    expect(before.stillWrapping).toEqual([expect.objectContaining({ id: t.kmsKeyId, keyRef: t.kmsKeyArn, tenantKeys: 2 })]);
    expect(before.retirable).toEqual([]);
    // Nothing may retire the old key while tenant keys depend on it.
    const early = await refusal(retireKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId }));
    expect(early).toMatchObject({ code: "conflict", message: "2 tenant keys still depend on this key: re-wrap them under the primary key first." });

    const ids = (await tenantKeys(t.tenantId)).map((k) => k.id);
    const { rotationId } = await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });
    expect(await runRotation(rotationId)).toBe("completed");

    const after = await tenantKeys(t.tenantId);
    expect(after.map((k) => k.id)).toEqual(ids); // same tenant keys (same ids, same material)
    expect(after.every((k) => k.kmsKeyId === b.kmsKeyId && k.previousWrappedKey === null && k.previousKmsKeyId === null)).toBe(true);
    expect(await getDb().kmsKeyRotation.findUniqueOrThrow({ where: { id: rotationId } })).toMatchObject({ state: "completed", total: 2, rewrapped: 2 });
    const overview = await rotationOverview(t.admin, t.tenantId);
    expect(overview.stillWrapping).toEqual([]);
    expect(overview.retirable.map((k) => k.id)).toEqual([t.kmsKeyId]);

    // The customer disables the old key: nothing needs it. The key service re-leases through the new key.
    await fixture.customer.send(new DisableKeyCommand({ KeyId: t.kmsKeyArn }));
    await expectUnwrap(t.tenantId, t.edeks);
    await expectOpensThrough(t.tenantId, t.edeks, b.arn);

    // Retiring is an admin's act, refused to an auditor.
    expect(await refusal(retireKmsKey(t.auditor, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId }))).toMatchObject({ code: "forbidden" });
    const retired = await retireKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId });
    expect(retired.kmsSide).toEqual([]); // no grants recorded for this key: nothing to retire on AWS's side
    expect(await getDb().kmsKey.findUniqueOrThrow({ where: { id: t.kmsKeyId } })).toMatchObject({ status: "RETIRED" });
    // A retired key is never used again: verifying it is refused before any KMS call.
    expect(await refusal(verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId }))).toMatchObject({ code: "conflict" });
    await expectUnwrap(t.tenantId, t.edeks);

    const trail = await actions(t.tenantId);
    const names = trail.map(([a, o]) => `${a}:${o}`);
    expect(names).toEqual(expect.arrayContaining(["key.rotation_started:SUCCESS", "key.rotation_completed:SUCCESS", "key.retired:SUCCESS", "key.retired:DENIED"]));
    // Never key material in the trail.
    const text = JSON.stringify(trail);
    for (const k of after) expect(text).not.toContain(Buffer.from(k.wrappedKey).toString("base64"));
  });

  it("retires the grants the customer recorded for a retired key, and says so", async () => {
    const t = await tenantOnAws("rot-grants");
    const { CreateGrantCommand } = await import("@aws-sdk/client-kms");
    const { DEV_KMS_VENDOR } = await import("@/lib/dev/kms/defaults");
    const grant = await fixture.customer.send(
      new CreateGrantCommand({
        KeyId: t.kmsKeyArn,
        GranteePrincipal: DEV_KMS_VENDOR.arn,
        RetiringPrincipal: DEV_KMS_VENDOR.arn,
        Operations: ["Decrypt"],
        Constraints: { EncryptionContextSubset: { tenant_id: t.tenantId } },
      }),
    );
    const { setKeyGrants } = await import("@/lib/keys");
    await setKeyGrants(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId, grantIds: grant.GrantId! });
    await newAwsPrimary(t);
    const { rotationId } = await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });
    expect(await runRotation(rotationId)).toBe("completed");
    const retired = await retireKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId });
    expect(retired.kmsSide).toEqual([expect.objectContaining({ done: true, message: "Grant retired." })]);
    await expectUnwrap(t.tenantId, t.edeks);
  });
});

describe("rotating across providers", () => {
  it("re-wraps AWS-wrapped tenant keys under a Cloud KMS key; EDEKs open with the AWS key disabled", async () => {
    const t = await tenantOnAws("rot-gcp", 2);
    const name = await gcp.createKey("custody", "rot-gcp");
    await gcp.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const { kmsKeyId } = await registerKmsKey(t.admin, { tenantId: t.tenantId, provider: "gcp", fields: { name } });
    expect(await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId })).toMatchObject({ ok: true, becamePrimary: true });

    const { rotationId } = await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });
    expect(await runRotation(rotationId)).toBe("completed");
    expect((await tenantKeys(t.tenantId)).every((k) => k.kmsKeyId === kmsKeyId)).toBe(true);

    await fixture.customer.send(new DisableKeyCommand({ KeyId: t.kmsKeyArn }));
    await expectOpensThrough(t.tenantId, t.edeks, name);
  });
});

describe("a KMS error mid-way", () => {
  async function stoppedMidway(slug: string) {
    const t = await tenantOnAws(slug, 3);
    const b = await newAwsPrimary(t);
    const { rotationId } = await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });
    // The first tenant key goes through; then the new key's KMS fails every Encrypt (past the SDK's retries).
    const outcome = await runRotation(rotationId, { onProgress: (n) => n === 1 && fixture.kms.faults.failNext(10, "Encrypt") });
    fixture.kms.faults.reset();
    expect(outcome).toBe("failed");
    const rotation = await getDb().kmsKeyRotation.findUniqueOrThrow({ where: { id: rotationId } });
    expect(rotation).toMatchObject({ state: "failed", total: 3, rewrapped: 1, leaseOwner: null });
    expect(rotation.lastError).toBeTruthy();
    expect(rotation.lastError).not.toMatch(/Exception|stack|at .*\(/);
    const keys = await tenantKeys(t.tenantId);
    expect(keys.filter((k) => k.kmsKeyId === b.kmsKeyId && k.previousKmsKeyId === t.kmsKeyId)).toHaveLength(1);
    expect(keys.filter((k) => k.kmsKeyId === t.kmsKeyId && k.previousKmsKeyId === null)).toHaveLength(2);
    // Every EDEK keeps opening while the rotation stands stopped.
    await expectUnwrap(t.tenantId, t.edeks);
    return { t, b, rotationId };
  }

  it("stops with the error shown; resuming completes it", async () => {
    const { t, b, rotationId } = await stoppedMidway("rot-resume");
    const overview = await rotationOverview(t.admin, t.tenantId);
    expect(overview.rotation).toMatchObject({ id: rotationId, state: "failed", rewrapped: 1, total: 3 });
    expect(overview.retirable).toEqual([]);
    // Not while it depends: the old key holds the not-yet re-wrapped keys, and the roll back's forms.
    expect(await refusal(retireKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId }))).toMatchObject({ code: "conflict" });
    expect(await refusal(resumeRotation(t.auditor, { tenantId: t.tenantId, rotationId }, { work: "none" }))).toMatchObject({ code: "forbidden" });

    await resumeRotation(t.admin, { tenantId: t.tenantId, rotationId }, { work: "none" });
    expect(await runRotation(rotationId)).toBe("completed");
    const keys = await tenantKeys(t.tenantId);
    expect(keys.every((k) => k.kmsKeyId === b.kmsKeyId && k.previousKmsKeyId === null)).toBe(true);
    await fixture.customer.send(new DisableKeyCommand({ KeyId: t.kmsKeyArn }));
    await expectOpensThrough(t.tenantId, t.edeks, b.arn);
    const names = (await actions(t.tenantId)).map(([a, o]) => `${a}:${o}`);
    expect(names).toEqual(expect.arrayContaining(["key.rotation_failed:FAILURE", "key.rotation_started:SUCCESS", "key.rotation_completed:SUCCESS"]));
  });

  it("rolls back without any KMS call: every tenant key wrapped by the old key again", async () => {
    const { t, b, rotationId } = await stoppedMidway("rot-rollback");
    expect(await refusal(rollBackRotation(t.auditor, { tenantId: t.tenantId, rotationId }))).toMatchObject({ code: "forbidden" });
    // The new key is gone from the customer's side: the roll back does not need it.
    await fixture.customer.send(new DisableKeyCommand({ KeyId: b.arn }));
    expect(await rollBackRotation(t.admin, { tenantId: t.tenantId, rotationId })).toEqual({ restored: 1 });
    const keys = await tenantKeys(t.tenantId);
    expect(keys.every((k) => k.previousKmsKeyId === null && k.previousWrappedKey === null)).toBe(true);
    // The three are the old key's again; only the tenant key the new key's verification made stays under it.
    expect(keys.filter((k) => k.kmsKeyId === t.kmsKeyId)).toHaveLength(3);
    expect(keys.filter((k) => k.kmsKeyId === b.kmsKeyId)).toHaveLength(1);
    expect(await getDb().kmsKeyRotation.findUniqueOrThrow({ where: { id: rotationId } })).toMatchObject({ state: "rolled_back" });
    await expectOpensThrough(t.tenantId, t.edeks, t.kmsKeyArn);
    expect((await actions(t.tenantId)).map(([a, o]) => `${a}:${o}`)).toContain("key.rotation_rolled_back:SUCCESS");
  });
});

describe("who may rotate", () => {
  it("refuses an auditor, and a second rotation while one is open", async () => {
    const t = await tenantOnAws("rot-authz");
    await newAwsPrimary(t);
    expect(await refusal(startRotation(t.auditor, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" }))).toMatchObject({ code: "forbidden" });
    expect(await getDb().kmsKeyRotation.count({ where: { tenantId: t.tenantId } })).toBe(0);
    await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });
    expect(await refusal(startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" }))).toMatchObject({ code: "conflict" });
    expect(await resumeRunningRotations()).toEqual({ completed: 1, failed: 0 });
  });
});

describe("while access is revoked", () => {
  it("refuses to rotate, and to retire a key that revoked tenant keys depend on (a restore brings them back)", async () => {
    const t = await tenantOnAws("rot-revoked");
    await newAwsPrimary(t);
    const { revokeAccess, restoreAccess } = await import("@/lib/keys");
    await revokeAccess(t.admin, { tenantId: t.tenantId });
    expect(await refusal(startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" }))).toMatchObject({ code: "conflict" });
    expect(await refusal(retireKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId: t.kmsKeyId }))).toMatchObject({
      code: "conflict",
      message: "1 tenant key still depends on this key: re-wrap it under the primary key first.",
    });
    expect((await restoreAccess(t.admin, { tenantId: t.tenantId })).restored).toBe(true);
    await expectUnwrap(t.tenantId, t.edeks);
  });
});

describe("a worker killed with SIGKILL mid-way", () => {
  it("leaves every EDEK opening, and a restarted worker resumes the rotation to completion once the lease has run out", async () => {
    const t = await tenantOnAws("rot-kill", 6);
    const b = await newAwsPrimary(t);
    const { rotationId } = await startRotation(t.admin, { tenantId: t.tenantId, fromKmsKeyId: t.kmsKeyId }, { work: "none" });

    // A slow KMS: every request waits, so the worker is mid-way when it is killed.
    fixture.kms.faults.delayNext(300, 200);
    let output = "";
    const child: ChildProcess = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "tests/helpers/rotation-worker-child.ts", rotationId, "2000"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: database.url, ...vendorKmsEnvironment(fixture.kms.endpoint), LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    try {
      await waitUntil(
        () => {
          if (child.exitCode !== null) throw new Error(`the worker exited early:\n${output}`);
          return /rewrapped 2\n/.test(output);
        },
        "the worker to re-wrap two tenant keys",
        180_000,
      );
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    fixture.kms.faults.reset();
    const stranded = await getDb().kmsKeyRotation.findUniqueOrThrow({ where: { id: rotationId } });
    expect(stranded.state).toBe("running");
    expect(stranded.rewrapped).toBeGreaterThanOrEqual(2);
    expect(stranded.rewrapped).toBeLessThan(6);
    // Meanwhile, every EDEK opens: some tenant keys are under the new key, the rest under the old one.
    await expectUnwrap(t.tenantId, t.edeks);

    // "Restart": the background job's pass takes the rotation over once the dead worker's lease has run out.
    await waitUntil(async () => (await resumeRunningRotations({ leaseMs: 2_000 })).completed === 1, "the rotation to be resumed", 60_000);
    const done = await getDb().kmsKeyRotation.findUniqueOrThrow({ where: { id: rotationId } });
    expect(done).toMatchObject({ state: "completed", total: 6, rewrapped: 6 });
    const keys = await tenantKeys(t.tenantId);
    expect(keys.every((k) => k.kmsKeyId === b.kmsKeyId && k.previousKmsKeyId === null)).toBe(true);
    await fixture.customer.send(new DisableKeyCommand({ KeyId: t.kmsKeyArn }));
    await expectOpensThrough(t.tenantId, t.edeks, b.arn);
  });
});
