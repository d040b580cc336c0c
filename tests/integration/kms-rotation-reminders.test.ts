import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { kmsRotationStatus, REMINDER_REPEAT_DAYS, sendKmsRotationReminders, setKmsRotationPolicy } from "@/lib/fleet/kms-rotation";
import type { RequestMeta } from "@/lib/http/request-meta";
import { createSink } from "@/lib/sinks";
import { enqueueAll } from "@/lib/sinks/outbox";
import { deliverDue } from "@/lib/sinks/worker";
import { addMember, createTenant } from "@/lib/tenants";
import { kmsRotationPolicySchema } from "@/lib/validation/kms-rotation";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";
import { postTransport, TestReceiver } from "../helpers/sink-receiver";

// KMS-key rotation reminders as a tenant lives them: a policy its admin sets (audited), the
// overview's account of how old the primary key is against it, and the job that puts one
// "KMS key rotation overdue" event on the tenant's trail per key and reminder period, whatever
// how often it runs (its clock injected), which the tenant's log sinks then deliver.

const DAY = 86_400_000;
const request: RequestMeta = { sourceIp: null, userAgent: "vitest", requestId: null };
let database: TestDatabase;
let vendor: Caller;

async function callerFor(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

/** A tenant whose primary KMS key was registered at `registeredAt` (as a verification leaves it). */
async function tenantWithKey(slug: string, registeredAt: Date): Promise<{ tenantId: string; keyId: string; admin: Caller; keyRef: string }> {
  const { tenantId } = await createTenant(vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
  const keyRef = `arn:aws:kms:eu-west-1:111122223333:key/${crypto.randomUUID()}`;
  const key = await getDb().kmsKey.create({
    data: {
      tenantId,
      provider: "aws",
      keyRef,
      keyDetails: { partition: "aws", region: "eu-west-1", accountId: "111122223333", multiRegion: false, grantIds: [] },
      status: "ACTIVE",
      createdAt: registeredAt,
      lastVerifiedAt: registeredAt,
    },
  });
  await getDb().tenant.update({ where: { id: tenantId }, data: { primaryKmsKeyId: key.id } });
  return { tenantId, keyId: key.id, admin: await callerFor(`admin@${slug}.example`), keyRef };
}

const reminders = (tenantId: string) =>
  getDb().auditEvent.findMany({ where: { chain: tenantId, action: "key.rotation_overdue" }, orderBy: { seq: "asc" } });

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.SINK_SECRET_KEY ??= Buffer.alloc(32, 7).toString("base64");
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("the KMS-key rotation policy", () => {
  it("starts at 365 days; a tenant admin changes it or turns it off, and each change is in the trail", async () => {
    const now = new Date();
    const { tenantId, admin } = await tenantWithKey("policy", new Date(now.getTime() - 100 * DAY));
    expect(await kmsRotationStatus(admin, tenantId, now)).toMatchObject({ policyDays: 365, overdueDays: null, key: { ageDays: 100 } });

    await setKmsRotationPolicy(admin, kmsRotationPolicySchema.parse({ tenantId, days: "90" }));
    expect(await kmsRotationStatus(admin, tenantId, now)).toMatchObject({ policyDays: 90, overdueDays: 10 });
    await setKmsRotationPolicy(admin, kmsRotationPolicySchema.parse({ tenantId, days: "" }));
    expect(await kmsRotationStatus(admin, tenantId, now)).toMatchObject({ policyDays: null, dueAt: null, overdueDays: null });

    const changes = await getDb().auditEvent.findMany({ where: { chain: tenantId, action: "key.rotation_policy_changed" }, orderBy: { seq: "asc" } });
    expect(changes.map((event) => [event.outcome, event.actorLabel, event.details])).toEqual([
      ["SUCCESS", "admin@policy.example", { from: 365, to: 90 }],
      ["SUCCESS", "admin@policy.example", { from: 90, to: null }],
    ]);
  });

  it("is the tenant admin's alone: an auditor, another tenant's admin and the vendor are refused, nothing changes, each refusal audited", async () => {
    const { tenantId, admin } = await tenantWithKey("guarded", new Date());
    await addMember(admin, { tenantId, email: "aud@guarded.example", role: "auditor" });
    const other = await tenantWithKey("elsewhere", new Date());
    for (const caller of [await callerFor("aud@guarded.example"), other.admin, vendor]) {
      expect((await refusal(setKmsRotationPolicy(caller, { tenantId, days: 1 }))).code).toBe("forbidden");
    }
    expect((await getDb().tenant.findUniqueOrThrow({ where: { id: tenantId } })).kmsRotationDays).toBe(365);
    // The auditor's and the vendor's attempts in the tenant's trail; the outsider's on the vendor chain, ids only.
    const denied = await getDb().auditEvent.findMany({ where: { chain: tenantId, action: "key.rotation_policy_changed" }, orderBy: { seq: "asc" } });
    expect(denied.map((event) => [event.outcome, event.actorLabel])).toEqual([
      ["DENIED", "aud@guarded.example"],
      ["DENIED", "ops@vendor.example"],
    ]);
    const outsider = await getDb().auditEvent.findMany({ where: { chain: "vendor", action: "key.rotation_policy_changed" } });
    expect(outsider.map((event) => [event.outcome, event.actorLabel, (event.details as Record<string, unknown>).targetTenantId])).toEqual([
      ["DENIED", "admin@elsewhere.example", tenantId],
    ]);
    // The auditor still sees the policy; an outsider does not.
    expect((await kmsRotationStatus(await callerFor("aud@guarded.example"), tenantId)).policyDays).toBe(365);
    expect((await refusal(kmsRotationStatus(other.admin, tenantId))).code).toBe("forbidden");
  });

  it("refuses what is not a number of days from 1 to 3650, saying what to enter", () => {
    for (const days of ["0", "3651", "-5", "1.5", "a year", "99999999"]) {
      const parsed = kmsRotationPolicySchema.safeParse({ tenantId: crypto.randomUUID(), days });
      expect(parsed.success, days).toBe(false);
      expect(parsed.error!.issues[0]!.message).toBe("Enter a whole number of days from 1 to 3650, or leave it empty.");
    }
  });
});

describe("the rotation reminder job", () => {
  it("reminds once when the key becomes overdue, not on every run, then once per reminder period; a new policy starts a new series", async () => {
    const registeredAt = new Date(Date.UTC(2025, 0, 1));
    const { tenantId, keyId, admin, keyRef } = await tenantWithKey("reminded", registeredAt);
    const dueAt = new Date(registeredAt.getTime() + 365 * DAY);
    const at = (days: number) => new Date(dueAt.getTime() + days * DAY);

    // Not yet due: nothing, however often the job runs.
    await sendKmsRotationReminders(at(-1));
    expect(await reminders(tenantId)).toEqual([]);
    expect(await kmsRotationStatus(admin, tenantId, at(-1))).toMatchObject({ overdueDays: null });

    // Due: one event, with which key, how old and what to do; the job's later runs in the same period add none.
    for (const day of [0, 0, 1, 7, REMINDER_REPEAT_DAYS - 1]) await sendKmsRotationReminders(at(day));
    const [first, ...rest] = await reminders(tenantId);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ actorType: "SYSTEM", actorLabel: "rotation reminders", targetType: "kms_key", targetId: keyId, outcome: "SUCCESS" });
    expect(first!.details).toMatchObject({ provider: "aws", keyRef, ageDays: 365, policyDays: 365, dueAt: dueAt.toISOString(), reminder: 1 });
    expect(String((first!.details as Record<string, unknown>).todo)).toMatch(/Register a new KMS key, verify it, then re-wrap/);
    expect(await kmsRotationStatus(admin, tenantId, at(7))).toMatchObject({ overdueDays: 7, key: { id: keyId, keyRef, ageDays: 372, providerLabel: "AWS KMS", location: "eu-west-1" } });

    // The next period: one more.
    await sendKmsRotationReminders(at(REMINDER_REPEAT_DAYS));
    await sendKmsRotationReminders(at(REMINDER_REPEAT_DAYS + 1));
    expect((await reminders(tenantId)).map((event) => (event.details as Record<string, unknown>).reminder)).toEqual([1, 2]);

    // A shorter policy is a new due date, long past: a new first reminder.
    await setKmsRotationPolicy(admin, { tenantId, days: 180 });
    await sendKmsRotationReminders(at(REMINDER_REPEAT_DAYS + 2));
    await sendKmsRotationReminders(at(REMINDER_REPEAT_DAYS + 3));
    const all = await reminders(tenantId);
    expect(all).toHaveLength(3);
    expect(all[2]!.details).toMatchObject({ policyDays: 180, reminder: Math.floor((365 + REMINDER_REPEAT_DAYS + 2 - 180) / REMINDER_REPEAT_DAYS) + 1 });

    // Off: no more reminders, and the overview says nothing is due.
    await setKmsRotationPolicy(admin, { tenantId, days: null });
    await sendKmsRotationReminders(at(400));
    expect(await reminders(tenantId)).toHaveLength(3);
    expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: true });
  });

  it("runs concurrently (two instances) without reminding twice", async () => {
    const { tenantId } = await tenantWithKey("twice", new Date(Date.UTC(2024, 0, 1)));
    const now = new Date(Date.UTC(2025, 5, 1));
    await Promise.all([sendKmsRotationReminders(now), sendKmsRotationReminders(now), sendKmsRotationReminders(now)]);
    expect(await reminders(tenantId)).toHaveLength(1);
  });

  it("reminds nobody whose key is young, who has no key, or whose policy is off", async () => {
    const now = new Date();
    const young = await tenantWithKey("young", new Date(now.getTime() - 10 * DAY));
    const { tenantId: keyless } = await createTenant(vendor, { name: "keyless", slug: "keyless", adminEmail: "admin@keyless.example" });
    const off = await tenantWithKey("off", new Date(now.getTime() - 900 * DAY));
    await setKmsRotationPolicy(off.admin, { tenantId: off.tenantId, days: null });
    await sendKmsRotationReminders(now);
    for (const tenantId of [young.tenantId, keyless, off.tenantId]) expect(await reminders(tenantId)).toEqual([]);
  });

  it("is delivered to the tenant's log sinks like any event of its trail", async () => {
    const receiver = new TestReceiver();
    await receiver.start();
    try {
      const { tenantId, admin } = await tenantWithKey("sinky", new Date(Date.UTC(2024, 0, 1)));
      await createSink(admin, { tenantId, name: "siem", kind: "webhook", settings: { url: receiver.url } });
      await sendKmsRotationReminders(new Date(Date.UTC(2025, 5, 1)));
      await enqueueAll({ budgetMs: 2_000 });
      await deliverDue({ transport: postTransport, allowPrivateTargets: true, maxAgeMs: 3_600_000, timeoutMs: 5_000, budgetMs: 2_000 });
      const delivered = receiver.events.filter((event) => event.chain === tenantId && event.action === "key.rotation_overdue");
      expect(delivered).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});
