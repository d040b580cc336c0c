import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { listTenantKeyVersions, retireTenantKey, rotateDueTenantKeys, rotateTenantKey, setRotationSchedule } from "@/lib/keys";
import { addMember } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";

// Rotating the tenant key (issue 16, "Rotation" item 2), through two real key-service
// processes: a new version becomes current for wraps on every instance (NOTIFY; their cached
// key state would otherwise last five minutes), older versions keep unwrapping, rekey and
// batch-rekey move EDEKs to the current version and say which, the versions page counts every
// use per version from the rollups, a version can be retired only once quiet, and a retired
// version is refused with key_version_retired on every instance, recorded as denied. The
// schedule runs on an injected clock. Another tenant's admin and the tenant's own auditor
// change nothing.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let one: KeyServiceInstance;
let two: KeyServiceInstance;
let acme: TenantWithKey;
let globex: TenantWithKey;
let auditor: Caller;
let token: string;

const DAY = 86_400_000;
const POLL = { timeout: 30_000, interval: 100 };
const meta = (dataLabel = "invoices") => ({ dataLabel, objectId: "inv-1", reason: "rotation test" });

/** What this file did to acme's keys, per tenant key id: the versions page must show exactly this. */
const uses = new Map<string, { wraps: number; unwraps: number; rekeysFrom: number; rekeysTo: number }>();
function count(id: string, what: "wraps" | "unwraps" | "rekeysFrom" | "rekeysTo", n = 1) {
  const entry = uses.get(id) ?? { wraps: 0, unwraps: 0, rekeysFrom: 0, rekeysTo: 0 };
  entry[what] += n;
  uses.set(id, entry);
}

type Wrapped = { dek: string; edek: string; tenantKeyId: string };
type Rekeyed = { edek: string; tenantKeyId: string; version: number };

async function wrap(url: string, tenant = acme, dataLabel = "invoices"): Promise<Wrapped> {
  const result = await api<Wrapped>(url, token, "wrap", { tenantId: tenant.tenantId, metadata: meta(dataLabel) });
  expect(result.status).toBe(200);
  if (tenant === acme) count(result.body.tenantKeyId, "wraps");
  return result.body;
}

async function unwrap(url: string, edek: string) {
  const result = await api<{ dek: string; tenantKeyId: string }>(url, token, "unwrap", { tenantId: acme.tenantId, edek, metadata: meta() });
  if (result.status === 200) count(result.body.tenantKeyId, "unwraps");
  return result;
}

async function versionId(tenantId: string, version: number): Promise<string> {
  return (await getDb().tenantKey.findFirstOrThrow({ where: { tenantId, version } })).id;
}

async function trail(tenantId: string, action: string) {
  return getDb().auditEvent.findMany({ where: { tenantId, action }, orderBy: { seq: "asc" } });
}

let v1Edek: Wrapped;
let v1: string;
let v2: string;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  acme = await fixture.tenantWithKey("acme");
  globex = await fixture.tenantWithKey("globex");
  await addMember(acme.admin, { tenantId: acme.tenantId, email: "auditor@acme.example", role: "auditor" });
  auditor = await fixture.callerFor("auditor@acme.example");
  token = (await fixture.credential({ name: "billing-app" })).token;
  [one, two] = await Promise.all([fixture.instance(), fixture.instance()]);
  v1 = await versionId(acme.tenantId, 1);
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

describe("rotating the tenant key", () => {
  it("makes v2 current for wraps on every instance at once (NOTIFY), while v1 EDEKs keep unwrapping", async () => {
    // Both instances hold acme's key state (cached for the lease's five minutes) before the rotation.
    v1Edek = await wrap(one.url);
    expect(v1Edek.tenantKeyId).toBe(v1);
    expect((await wrap(two.url)).tenantKeyId).toBe(v1);

    const rotated = await rotateTenantKey(acme.admin, { tenantId: acme.tenantId });
    expect(rotated.version).toBe(2);
    v2 = rotated.tenantKeyId;
    const event = (await trail(acme.tenantId, "tenant_key.rotated")).at(-1)!;
    expect(event.outcome).toBe("SUCCESS");
    expect(event.details).toMatchObject({ version: 2, trigger: "manual" });

    for (const instance of [one, two]) {
      await expect.poll(async () => (await wrap(instance.url)).tenantKeyId, POLL).toBe(v2);
    }
    for (const instance of [one, two]) {
      const unwrapped = await unwrap(instance.url, v1Edek.edek);
      expect(unwrapped.status).toBe(200);
      expect(unwrapped.body).toMatchObject({ dek: v1Edek.dek, tenantKeyId: v1 });
    }
  });

  it("rekey moves a v1 EDEK to v2 and answers the version; the data key is the same", async () => {
    const rekeyed = await api<Rekeyed>(two.url, token, "rekey", { tenantId: acme.tenantId, edek: v1Edek.edek, metadata: meta() });
    expect(rekeyed.status).toBe(200);
    expect(rekeyed.body).toMatchObject({ tenantKeyId: v2, version: 2 });
    count(v1, "rekeysFrom");
    count(v2, "rekeysTo");
    const unwrapped = await unwrap(one.url, rekeyed.body.edek);
    expect(unwrapped.body).toMatchObject({ dek: v1Edek.dek, tenantKeyId: v2 });
  });

  it("batch-rekey moves the good items to v2 and fails each bad item alone, in batch-unwrap's terms", async () => {
    const good = await wrap(one.url);
    expect(good.tenantKeyId).toBe(v2);
    const other = await wrap(one.url, globex);
    const result = await api<{ results: Array<{ ok: boolean; edek?: string; tenantKeyId?: string; version?: number; error?: { code: string; message: string } }> }>(
      two.url,
      token,
      "batch-rekey",
      {
        tenantId: acme.tenantId,
        metadata: { reason: "re-key job" },
        items: [
          { edek: v1Edek.edek, dataLabel: "invoices", objectId: "a" },
          { edek: 5, dataLabel: "invoices" },
          { edek: v1Edek.edek, dataLabel: "payroll" },
          { edek: other.edek, dataLabel: "invoices" },
          { edek: good.edek, dataLabel: "invoices", objectId: "b" },
        ],
      },
    );
    expect(result.status).toBe(200);
    const results = result.body.results;
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false, true]);
    expect(results.map((r) => r.error?.code ?? null)).toEqual([null, "bad_request", "invalid_edek", "invalid_edek", null]);
    expect(results[1]!.error!.message).toMatch(/^Item 1: /);
    for (const r of [results[0]!, results[4]!]) expect(r).toMatchObject({ tenantKeyId: v2, version: 2 });
    count(v1, "rekeysFrom");
    count(v2, "rekeysFrom");
    count(v2, "rekeysTo", 2);
    for (const [r, dek] of [
      [results[0]!, v1Edek.dek],
      [results[4]!, good.dek],
    ] as const) {
      expect((await unwrap(one.url, r.edek!)).body).toMatchObject({ dek, tenantKeyId: v2 });
    }

    const event = (await trail(acme.tenantId, "key.batch_rekey")).at(-1)!;
    expect(event.outcome).toBe("SUCCESS");
    expect(event.details).toMatchObject({ items: 5, failedItems: [1, 2, 3], objectIds: ["a", "b"], version: 2, tenantKeyId: v2, reason: "re-key job" });
    // Nothing of globex's was answered or recorded in acme's trail beyond "invalid".
    expect(JSON.stringify(result.body)).not.toContain(globex.tenantId);
  });

  it("refuses batch-rekey without the rekey scope, as the vendor's chain or the tenant's trail records", async () => {
    const unwrapOnly = (await fixture.credential({ name: "reader", scopes: ["unwrap"] })).token;
    const refused = await api(one.url, unwrapOnly, "batch-rekey", { tenantId: acme.tenantId, items: [{ edek: v1Edek.edek, dataLabel: "invoices" }] });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe("forbidden");
    expect((await trail(acme.tenantId, "key.batch_rekey")).at(-1)!.outcome).toBe("DENIED");
  });

  it("shows per version: created, KMS key, wraps, unwraps, rekeys away and last use, from the rollups", async () => {
    const page = await listTenantKeyVersions(acme.admin, acme.tenantId);
    expect(page.versions.map((v) => [v.version, v.state])).toEqual([
      [2, "current"],
      [1, "active"],
    ]);
    for (const v of page.versions) {
      const did = uses.get(v.tenantKeyId)!;
      expect({ wraps: v.wraps, unwraps: v.unwraps, rekeysFrom: v.rekeysFrom }, `v${v.version}`).toEqual({
        wraps: did.wraps + did.rekeysTo,
        unwraps: did.unwraps,
        rekeysFrom: did.rekeysFrom,
      });
      expect(v.kmsKeyId).toBe(acme.kmsKeyId);
      expect(v.lastUsedAt).not.toBeNull();
    }
    expect(page.versions[1]!.retirement).toMatchObject({ allowed: false });
    expect(page.versions[0]!.retirement).toMatchObject({ allowed: false });
  });
});

describe("retiring a version", () => {
  it("is refused for the current version and for one used within the quiet period, saying when it will be allowed; both audited as denied", async () => {
    await expect(retireTenantKey(acme.admin, { tenantId: acme.tenantId, tenantKeyId: v2, quietDays: 30, confirm: "v2" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringContaining("current version"),
    });
    // Used a moment ago (perhaps not yet counted by the rollup): still refused.
    expect((await unwrap(two.url, v1Edek.edek)).status).toBe(200);
    await expect(retireTenantKey(acme.admin, { tenantId: acme.tenantId, tenantKeyId: v1, quietDays: 30, confirm: "v1" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/last used on .* can be retired from /),
    });
    await expect(
      retireTenantKey(acme.admin, { tenantId: acme.tenantId, tenantKeyId: v1, quietDays: 1, confirm: "v1" }, { now: new Date(Date.now() + 2 * DAY) }),
    ).resolves.toEqual({ version: 1 });
    const denied = (await trail(acme.tenantId, "tenant_key.retired")).filter((e) => e.outcome === "DENIED");
    expect(denied).toHaveLength(2);
  });

  it("answers key_version_retired (410) for v1 EDEKs on every instance, per item in batches, recorded as denied; v2 keeps working", async () => {
    for (const instance of [one, two]) {
      await expect.poll(async () => (await unwrap(instance.url, v1Edek.edek)).status, POLL).toBe(410);
    }
    const refused = await unwrap(one.url, v1Edek.edek);
    expect(refused.body.error).toMatchObject({ code: "key_version_retired", message: expect.stringContaining("version 1") });
    const rekey = await api(two.url, token, "rekey", { tenantId: acme.tenantId, edek: v1Edek.edek, metadata: meta() });
    expect(rekey.status).toBe(410);
    expect(rekey.body.error?.code).toBe("key_version_retired");

    const fresh = await wrap(one.url);
    expect(fresh.tenantKeyId).toBe(v2);
    for (const operation of ["batch-unwrap", "batch-rekey"]) {
      const batch = await api<{ results: Array<{ ok: boolean; error?: { code: string } }> }>(two.url, token, operation, {
        tenantId: acme.tenantId,
        items: [
          { edek: v1Edek.edek, dataLabel: "invoices" },
          { edek: fresh.edek, dataLabel: "invoices" },
        ],
      });
      expect(batch.status).toBe(200);
      expect(batch.body.results.map((r) => r.error?.code ?? "ok")).toEqual(["key_version_retired", "ok"]);
    }

    const unwraps = await trail(acme.tenantId, "key.unwrap");
    const deniedRetired = unwraps.filter((e) => e.outcome === "DENIED" && (e.details as { code?: string }).code === "key_version_retired");
    expect(deniedRetired.length).toBeGreaterThanOrEqual(2);
    expect((deniedRetired.at(-1)!.details as { tenantKeyId?: string }).tenantKeyId).toBe(v1);

    const page = await listTenantKeyVersions(auditor, acme.tenantId);
    expect(page.versions.find((v) => v.version === 1)).toMatchObject({ state: "retired", retiredAt: expect.any(Date) });
    await expect(retireTenantKey(acme.admin, { tenantId: acme.tenantId, tenantKeyId: v1, quietDays: 1, confirm: "v1" })).rejects.toMatchObject({ code: "conflict" });
  });
});

describe("the rotation schedule", () => {
  it("makes a new version once the current one is older than the tenant's period, on the injected clock, once", async () => {
    await setRotationSchedule(acme.admin, { tenantId: acme.tenantId, days: 90 });
    expect((await trail(acme.tenantId, "tenant_key.rotation_scheduled")).at(-1)!.details).toMatchObject({ days: 90, previousDays: null });
    const created = (await getDb().tenantKey.findUniqueOrThrow({ where: { id: v2 } })).createdAt.getTime();

    expect(await rotateDueTenantKeys({ now: new Date(created + 89 * DAY) })).toEqual({ rotated: 0, failed: 0 });
    expect(await rotateDueTenantKeys({ now: new Date(created + 91 * DAY) })).toEqual({ rotated: 1, failed: 0 });
    // The new version is younger than 90 days at that time: a second run (another instance's job) does nothing.
    expect(await rotateDueTenantKeys({ now: new Date(created + 91 * DAY) })).toEqual({ rotated: 0, failed: 0 });

    const v3 = await versionId(acme.tenantId, 3);
    const event = (await trail(acme.tenantId, "tenant_key.rotated")).at(-1)!;
    expect(event).toMatchObject({ actorType: "SYSTEM", targetId: v3 });
    expect(event.details).toMatchObject({ version: 3, trigger: "schedule" });
    // globex has no schedule: never rotated.
    expect(await getDb().tenantKey.count({ where: { tenantId: globex.tenantId } })).toBe(1);
    for (const instance of [one, two]) {
      await expect.poll(async () => (await wrap(instance.url)).tenantKeyId, POLL).toBe(v3);
    }

    await setRotationSchedule(acme.admin, { tenantId: acme.tenantId, days: null });
    expect(await rotateDueTenantKeys({ now: new Date(created + 400 * DAY) })).toEqual({ rotated: 0, failed: 0 });
  });
});

describe("who may rotate and retire", () => {
  it("another tenant's admin can neither see nor change acme's versions; acme's auditor sees them but changes nothing", async () => {
    const before = await getDb().tenantKey.findMany({ where: { tenantId: acme.tenantId }, orderBy: { version: "asc" } });
    const schedule = (await getDb().tenant.findUniqueOrThrow({ where: { id: acme.tenantId } })).keyRotationDays;
    const current = before.at(-1)!;

    await expect(listTenantKeyVersions(globex.admin, acme.tenantId)).rejects.toMatchObject({ code: "forbidden" });
    for (const caller of [globex.admin, auditor]) {
      await expect(rotateTenantKey(caller, { tenantId: acme.tenantId })).rejects.toMatchObject({ code: expect.stringMatching(/forbidden|not_found/) });
      await expect(setRotationSchedule(caller, { tenantId: acme.tenantId, days: 1 })).rejects.toMatchObject({ code: expect.stringMatching(/forbidden|not_found/) });
      await expect(
        retireTenantKey(caller, { tenantId: acme.tenantId, tenantKeyId: v2, quietDays: 1, confirm: "v2" }, { now: new Date(Date.now() + 400 * DAY) }),
      ).rejects.toMatchObject({ code: expect.stringMatching(/forbidden|not_found/) });
    }
    // globex's admin naming acme's version in globex's own tenant: not found there.
    await expect(
      retireTenantKey(globex.admin, { tenantId: globex.tenantId, tenantKeyId: v2, quietDays: 1, confirm: "v2" }, { now: new Date(Date.now() + 400 * DAY) }),
    ).rejects.toMatchObject({ code: "not_found" });

    expect((await listTenantKeyVersions(auditor, acme.tenantId)).versions.map((v) => v.version)).toEqual(before.map((k) => k.version).reverse());
    expect(await getDb().tenantKey.findMany({ where: { tenantId: acme.tenantId }, orderBy: { version: "asc" } })).toEqual(before);
    expect((await getDb().tenant.findUniqueOrThrow({ where: { id: acme.tenantId } })).keyRotationDays).toBe(schedule);
    expect(current.retiredAt).toBeNull();
    for (const chain of [acme.tenantId, globex.tenantId]) expect(await verifyStoredChain(chain)).toMatchObject({ intact: true });
  });
});
