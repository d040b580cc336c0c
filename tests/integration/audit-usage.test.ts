import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit";
import { AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import { getTenantUsage, getVendorUsage, rollUpAll, rollUpChain, rollUpChainBatch } from "@/lib/audit/usage";
import type { Env } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";
import { backgroundJobs, startJobRunner } from "@/lib/jobs";
import type { Caller } from "@/lib/authz";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";

// The usage rollups against the trail they summarise: after any mix of console and key-service
// events, counted once or by several runners at once, with events arriving meanwhile or pruned
// from the front, the rollup tables say exactly what a direct count of audit_events says. And
// nobody reads another tenant's usage; the vendor reads counts only.

let database: TestDatabase;
let pool: pg.Pool;
let committer: AuditGroupCommitter;
let admin: pg.Client;

type Tenant = { id: string; slug: string; keys: string[] };
let acme: Tenant;
let globex: Tenant;
const people: Record<"acmeAdmin" | "acmeAuditor" | "globexAdmin" | "vendor" | "outsider", Caller> = {} as never;

const request = { sourceIp: "10.0.0.1", userAgent: "test", requestId: null };

async function makeTenant(slug: string): Promise<Tenant> {
  const db = getDb();
  const tenant = await db.tenant.create({ data: { slug, name: `${slug} Inc` } });
  const kms = await db.kmsKey.create({
    data: { tenantId: tenant.id, provider: "aws", keyRef: `arn:aws:kms:eu-west-1:111122223333:key/${randomUUID()}`, keyDetails: { partition: "aws", region: "eu-west-1", accountId: "111122223333", multiRegion: false, grantIds: [] }, status: "ACTIVE" },
  });
  const keys: string[] = [];
  for (let i = 0; i < 2; i++) {
    keys.push((await db.tenantKey.create({ data: { tenantId: tenant.id, kmsKeyId: kms.id, wrappedKey: Buffer.alloc(32, i), version: i + 1 } })).id);
  }
  return { id: tenant.id, slug, keys };
}

async function makePerson(email: string, membership?: { tenant: Tenant; role: "ADMIN" | "AUDITOR" }, vendor = false): Promise<Caller> {
  const user = await getDb().user.create({ data: { email } });
  if (membership) await getDb().membership.create({ data: { tenantId: membership.tenant.id, userId: user.id, role: membership.role } });
  if (vendor) await getDb().vendorAdmin.create({ data: { userId: user.id } });
  return { userId: user.id, request };
}

const service = (label: string) => ({ type: "service" as const, id: `cred-${label}`, label });

/** The key service's events, through its own group commit (the database function). */
function keyServiceMix(tenant: Tenant, n: number, labelPrefix = ""): HotAuditEvent[] {
  const [k1, k2] = tenant.keys as [string, string];
  const label = (l: string) => `${labelPrefix}${l}`;
  const events: HotAuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const actor = service(i % 3 === 0 ? `${labelPrefix}billing-app` : `${labelPrefix}search-indexer`);
    const base = { tenantId: tenant.id, actor, request: { ...request, requestId: `r-${i}` }, requiresAccess: false };
    switch (i % 8) {
      case 0:
        events.push({ ...base, action: "key.wrap", outcome: "success", target: { type: "tenant_key", id: k1 }, details: { dataLabel: label("invoices"), objectId: `o-${i}`, tenantKeyId: k1 } });
        break;
      case 1:
        events.push({ ...base, action: "key.unwrap", outcome: "success", target: { type: "tenant_key", id: k1 }, details: { dataLabel: label("invoices"), objectId: `o-${i}`, tenantKeyId: k1 } });
        break;
      case 2:
        events.push({
          ...base,
          action: "key.batch_unwrap",
          outcome: "success",
          target: { type: "tenant_key", id: k2 },
          details: { items: 5, dataLabels: [label("payroll")], objectIds: ["a", "b", "c", "d", "e"], failedItems: [], tenantKeyIds: [k1, k2], tenantKeyId: k2 },
        });
        break;
      case 3:
        // A batch mixing labels: its items cannot be attributed to either label.
        events.push({
          ...base,
          action: "key.batch_wrap",
          outcome: "success",
          target: { type: "tenant_key", id: k2 },
          details: { items: 4, dataLabels: [label("invoices"), label("payroll")], objectIds: [], failedItems: [], tenantKeyId: k2 },
        });
        break;
      case 4:
        events.push({ ...base, action: "key.rekey", outcome: "success", target: { type: "tenant_key", id: k2 }, details: { dataLabel: label("payroll"), tenantKeyId: k2, fromTenantKeyId: k1 } });
        break;
      case 5:
        events.push({ ...base, action: "key.unwrap", outcome: "denied", target: { type: "tenant", id: tenant.id }, details: { dataLabel: label("payroll"), code: "access_revoked" } });
        break;
      case 6:
        // Refused at admission: the batch's size is known, its labels are not.
        events.push({ ...base, action: "key.batch_unwrap", outcome: "denied", target: { type: "tenant", id: tenant.id }, details: { items: 10, code: "forbidden" } });
        break;
      default:
        events.push({ ...base, action: "key.unwrap", outcome: "failure", target: { type: "tenant", id: tenant.id }, details: { dataLabel: label("invoices"), tenantKeyId: k1, reason: "throttled", code: "kms_throttled" } });
    }
  }
  return events;
}

async function appendKeyServiceEvents(events: HotAuditEvent[]): Promise<void> {
  await Promise.all(events.map((e) => committer.append(e)));
}

async function appendConsoleEvents(tenant: Tenant, caller: Caller, email: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await recordAuditEvent({
      tenantId: tenant.id,
      actor: { type: "user", id: caller.userId, label: email },
      action: i % 2 ? "member.invited" : "auth.sign_in",
      outcome: i % 5 === 4 ? "denied" : "success",
      request,
    });
  }
}

// --- The oracle: counts computed here, in TypeScript, from the raw events. ---------------------

const BATCH = new Set(["key.batch_wrap", "key.batch_unwrap"]);
const KEY_OPS = new Set(["key.wrap", "key.unwrap", "key.batch_wrap", "key.batch_unwrap", "key.rekey"]);

type Tally = Record<string, { events: number; items: number; denied?: number }>;

function bump(tally: Tally, key: string, items: number, denied?: boolean): void {
  const row = (tally[key] ??= { events: 0, items: 0, ...(denied === undefined ? {} : { denied: 0 }) });
  row.events += 1;
  row.items += items;
  if (denied !== undefined && denied) row.denied! += 1;
}

async function directCounts(chain: string) {
  const events = await getDb().auditEvent.findMany({ where: { chain } });
  const hourly: Tally = {};
  const daily: Tally = {};
  const labels: Tally = {};
  const actors: Tally = {};
  const keys: Record<string, { events: number; lastUsedAt: number }> = {};
  for (const e of events) {
    const d = (e.details ?? {}) as Record<string, unknown>;
    const items = BATCH.has(e.action) && typeof d.items === "number" ? d.items : 1;
    const outcome = e.outcome.toLowerCase();
    const hour = new Date(Math.floor(e.occurredAt.getTime() / 3_600_000) * 3_600_000).toISOString();
    const day = e.occurredAt.toISOString().slice(0, 10);
    bump(hourly, `${hour}|${e.action}|${outcome}`, items);
    bump(daily, `${day}|${e.action}|${outcome}`, items);
    const eventLabels = typeof d.dataLabel === "string" ? [d.dataLabel] : Array.isArray(d.dataLabels) ? (d.dataLabels as string[]) : [];
    for (const l of eventLabels) bump(labels, `${day}|${l}`, eventLabels.length === 1 ? items : 0, outcome === "denied");
    bump(actors, `${day}|${e.actorType.toLowerCase()}|${e.actorId ?? ""}|${e.actorLabel ?? ""}`, items, outcome === "denied");
    if (outcome === "success" && KEY_OPS.has(e.action)) {
      const used = new Set([d.tenantKeyId, d.fromTenantKeyId, ...(Array.isArray(d.tenantKeyIds) ? d.tenantKeyIds : [])].filter((k): k is string => typeof k === "string"));
      for (const k of used) {
        const row = (keys[k] ??= { events: 0, lastUsedAt: 0 });
        row.events += 1;
        row.lastUsedAt = Math.max(row.lastUsedAt, e.occurredAt.getTime());
      }
    }
  }
  return { hourly, daily, labels, actors, keys, total: events.length };
}

async function rolledUpCounts(chain: string) {
  const db = getDb();
  const tally = <T>(rows: T[], key: (r: T) => string, value: (r: T) => { events: number; items: number; denied?: number }): Tally =>
    Object.fromEntries(rows.map((r) => [key(r), value(r)]));
  const hourly = tally(await db.auditUsageHourly.findMany({ where: { chain } }), (r) => `${r.hour.toISOString()}|${r.action}|${r.outcome.toLowerCase()}`, (r) => ({ events: Number(r.events), items: Number(r.items) }));
  const daily = tally(await db.auditUsageDaily.findMany({ where: { chain } }), (r) => `${r.day.toISOString().slice(0, 10)}|${r.action}|${r.outcome.toLowerCase()}`, (r) => ({ events: Number(r.events), items: Number(r.items) }));
  const labels = tally(await db.auditUsageLabelDaily.findMany({ where: { chain } }), (r) => `${r.day.toISOString().slice(0, 10)}|${r.dataLabel}`, (r) => ({ events: Number(r.events), items: Number(r.items), denied: Number(r.denied) }));
  const actors = tally(await db.auditUsageActorDaily.findMany({ where: { chain } }), (r) => `${r.day.toISOString().slice(0, 10)}|${r.actorType.toLowerCase()}|${r.actorId}|${r.actorLabel}`, (r) => ({ events: Number(r.events), items: Number(r.items), denied: Number(r.denied) }));
  const keys = Object.fromEntries((await db.auditUsageKey.findMany({ where: { chain } })).map((r) => [r.tenantKeyId, { events: Number(r.events), lastUsedAt: r.lastUsedAt.getTime() }]));
  return { hourly, daily, labels, actors, keys };
}

async function expectRollupMatchesTrail(chain: string): Promise<number> {
  const direct = await directCounts(chain);
  const rolled = await rolledUpCounts(chain);
  expect(rolled.hourly).toEqual(direct.hourly);
  expect(rolled.daily).toEqual(direct.daily);
  expect(rolled.labels).toEqual(direct.labels);
  expect(rolled.actors).toEqual(direct.actors);
  expect(rolled.keys).toEqual(direct.keys);
  const mark = await getDb().auditUsageWatermark.findUniqueOrThrow({ where: { chain } });
  const head = await getDb().auditChain.findUniqueOrThrow({ where: { chain } });
  expect(mark.rolledSeq).toBe(head.seq);
  return direct.total;
}

/** Moves some events back in time (as if recorded hours and days ago): the buckets must follow. */
async function backdate(chain: string, seqs: number[], interval: string): Promise<void> {
  await admin.query("BEGIN");
  await admin.query("SET LOCAL session_replication_role = replica");
  await admin.query(`UPDATE audit_events SET occurred_at = occurred_at - $3::interval WHERE chain = $1 AND seq = ANY($2::bigint[])`, [chain, seqs, interval]);
  await admin.query("COMMIT");
}

async function prune(chain: string, throughSeq: number): Promise<void> {
  await admin.query("BEGIN");
  await admin.query("SET LOCAL session_replication_role = replica");
  await admin.query("DELETE FROM audit_events WHERE chain = $1 AND seq <= $2", [chain, throughSeq]);
  await admin.query("COMMIT");
}

/** The code of the refusal `promise` was rejected with. */
async function refusedWith(promise: Promise<unknown>): Promise<string> {
  return (await refusal(promise)).code;
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  pool = new pg.Pool({ connectionString: database.url, max: 4, options: "-c standard_conforming_strings=on" });
  committer = new AuditGroupCommitter(pool);
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  acme = await makeTenant("acme");
  globex = await makeTenant("globex");
  people.acmeAdmin = await makePerson("admin@acme.example", { tenant: acme, role: "ADMIN" });
  people.acmeAuditor = await makePerson("auditor@acme.example", { tenant: acme, role: "AUDITOR" });
  people.globexAdmin = await makePerson("admin@globex.example", { tenant: globex, role: "ADMIN" });
  people.vendor = await makePerson("vendor@custody.example", undefined, true);
  people.outsider = await makePerson("outsider@example.com");
});

afterAll(async () => {
  await committer?.close();
  await pool?.end();
  await admin?.end();
  await disconnectDb();
  await database?.drop();
});

describe("usage rollup", () => {
  it("counts exactly what the trail holds: console and key-service events, batches by item, hours and days", async () => {
    await appendKeyServiceEvents(keyServiceMix(acme, 80));
    await appendConsoleEvents(acme, people.acmeAdmin, "admin@acme.example", 10);
    await appendKeyServiceEvents(keyServiceMix(globex, 24, "globex-"));
    await backdate(acme.id, [3, 4, 5], "3 hours");
    await backdate(acme.id, [6, 7, 8, 9, 10, 11, 12, 13], "2 days 5 hours");

    const pass = await rollUpAll({ budgetMs: 60_000, batchSize: 17 });
    expect(pass).toEqual({ counted: 90 + 24, caughtUp: true });
    expect(await expectRollupMatchesTrail(acme.id)).toBe(90);
    expect(await expectRollupMatchesTrail(globex.id)).toBe(24);

    // The figures a person reads: 80 key-service calls in 8 kinds, 10 of each.
    const usage = await getTenantUsage(people.acmeAdmin, acme.id);
    const sum = (f: (b: (typeof usage.daily.buckets)[number]) => number) => usage.daily.buckets.reduce((n, b) => n + f(b), 0);
    expect(sum((b) => b.total.events)).toBe(80);
    // Items: 10 × (1 + 1 + 5 + 4 + 1 + 1 + 10 + 1).
    expect(sum((b) => b.total.items)).toBe(240);
    expect(sum((b) => b.byOutcome.denied.events)).toBe(20);
    expect(sum((b) => b.byOutcome.failure.events)).toBe(10);
    expect(sum((b) => b.byAction["key.batch_unwrap"].items)).toBe(150);
    // The backdated events moved to their own hours and days; those 2 days 5 hours back left the 48-hour chart.
    const keyEvents = await getDb().auditEvent.findMany({ where: { chain: acme.id, action: { startsWith: "key." } }, select: { occurredAt: true } });
    const days = new Set(keyEvents.map((e) => e.occurredAt.toISOString().slice(0, 10)));
    expect(usage.daily.buckets.filter((b) => b.total.events > 0).map((b) => b.at)).toEqual([...days].sort());
    expect(usage.hourly.buckets.reduce((n, b) => n + b.total.events, 0)).toBe(72);
    expect(usage.labels).toEqual([
      // invoices: 30 single-item calls + 10 mixed batches (calls only) = 40 calls, 30 items; payroll: 10 batches of 5 + 10 mixed + 10 rekeys + 10 refused.
      { label: "payroll", events: 40, items: 70, denied: 10 },
      { label: "invoices", events: 40, items: 30, denied: 0 },
    ]);
    expect(usage.services.map((s) => [s.label, s.events])).toEqual([
      ["search-indexer", 53],
      ["billing-app", 27],
    ]);
    expect(usage.people).toEqual([{ type: "user", id: people.acmeAdmin.userId, label: "admin@acme.example", events: 10, items: 10, denied: 2 }]);
    expect(usage.activity).toEqual([
      { action: "auth.sign_in", success: 4, denied: 1, failure: 0 },
      { action: "member.invited", success: 4, denied: 1, failure: 0 },
    ]);
    const [k1, k2] = acme.keys;
    const byKey = Object.fromEntries(usage.keys.map((k) => [k.tenantKeyId, k]));
    // k1: wraps, unwraps, batch-unwraps (with k2), rekeys from it. k2: batch-unwraps, batch-wraps, rekeys to it.
    expect(byKey[k1!]!.events).toBe(40);
    expect(byKey[k2!]!.events).toBe(30);
    expect(byKey[k1!]!.lastUsedAt).not.toBeNull();
    expect(usage.freshness.pending).toBe(0);
  });

  it("counts nothing twice when run again, and picks up events appended since", async () => {
    const before = await rolledUpCounts(acme.id);
    expect(await rollUpAll({ budgetMs: 60_000 })).toEqual({ counted: 0, caughtUp: true });
    expect(await rollUpChain(acme.id, { budgetMs: 60_000 })).toEqual({ counted: 0, caughtUp: true, busy: false });
    expect(await rolledUpCounts(acme.id)).toEqual(before);

    await appendKeyServiceEvents(keyServiceMix(acme, 16));
    await appendConsoleEvents(acme, people.acmeAuditor, "auditor@acme.example", 3);
    expect((await rollUpChain(acme.id, { budgetMs: 60_000, batchSize: 5 })).counted).toBe(19);
    expect(await expectRollupMatchesTrail(acme.id)).toBe(109);
  });

  it("two runners at once (and more) never double count, even while events keep arriving", async () => {
    const tenant = await makeTenant("initech");
    await appendKeyServiceEvents(keyServiceMix(tenant, 400));
    // Four runners on one chain in small batches while 200 more events are appended.
    const appending = appendKeyServiceEvents(keyServiceMix(tenant, 200));
    const runners = Array.from({ length: 4 }, async () => {
      let counted = 0;
      for (let i = 0; i < 200; i++) {
        const batch = await rollUpChainBatch(tenant.id, 13);
        counted += batch.counted;
      }
      return counted;
    });
    await appending;
    const counted = (await Promise.all(runners)).reduce((a, b) => a + b, 0);
    const rest = (await rollUpChain(tenant.id, { budgetMs: 60_000 })).counted;
    // Each event was counted by exactly one runner.
    expect(counted + rest).toBe(600);
    expect(await expectRollupMatchesTrail(tenant.id)).toBe(600);
  });

  it("a runner finding the chain locked by another skips it, then resumes where the other stopped", async () => {
    const tenant = await makeTenant("locked");
    await appendKeyServiceEvents(keyServiceMix(tenant, 10));
    await rollUpChainBatch(tenant.id, 4);
    await admin.query("BEGIN");
    await admin.query("SELECT 1 FROM audit_usage_watermarks WHERE chain = $1 FOR UPDATE", [tenant.id]);
    expect(await rollUpChainBatch(tenant.id, 4)).toEqual({ counted: 0, caughtUp: false, busy: true });
    await admin.query("COMMIT");
    expect(await rollUpChain(tenant.id, { budgetMs: 60_000 })).toEqual({ counted: 6, caughtUp: true, busy: false });
    await expectRollupMatchesTrail(tenant.id);
  });

  it("two passes over all chains at once (two instances' jobs) split a backlog without overlap", async () => {
    const tenant = await makeTenant("umbrella");
    await appendKeyServiceEvents(keyServiceMix(tenant, 300));
    const results = await Promise.all([rollUpAll({ budgetMs: 60_000, batchSize: 7 }), rollUpAll({ budgetMs: 60_000, batchSize: 7 })]);
    // Whatever each counted, together (with whatever a skipped chain left) they counted the backlog once.
    const rest = (await rollUpAll({ budgetMs: 60_000 })).counted;
    expect(results[0].counted + results[1].counted + rest).toBe(300);
    expect(await expectRollupMatchesTrail(tenant.id)).toBe(300);
  });

  it("survives pruning: events deleted from the front are skipped before counting, and counts already made stay", async () => {
    const tenant = await makeTenant("hooli");
    await appendKeyServiceEvents(keyServiceMix(tenant, 40));
    await prune(tenant.id, 25); // never counted: gone before the first run
    expect((await rollUpChain(tenant.id, { budgetMs: 60_000, batchSize: 4 })).counted).toBe(15);
    expect(await expectRollupMatchesTrail(tenant.id)).toBe(15);

    const before = await rolledUpCounts(tenant.id);
    await prune(tenant.id, 40); // counted, then pruned: the counts stay, the watermark does not move back
    expect(await rollUpChain(tenant.id, { budgetMs: 60_000 })).toEqual({ counted: 0, caughtUp: true, busy: false });
    expect(await rolledUpCounts(tenant.id)).toEqual(before);
    await appendKeyServiceEvents(keyServiceMix(tenant, 8));
    expect((await rollUpChain(tenant.id, { budgetMs: 60_000 })).counted).toBe(8);
    const mark = await getDb().auditUsageWatermark.findUniqueOrThrow({ where: { chain: tenant.id } });
    expect(mark.rolledSeq).toBe(48n);
  });

  it("an odd event (huge label, absurd item count) is bounded, not a rollup stuck forever", async () => {
    const tenant = await makeTenant("oddities");
    await appendKeyServiceEvents([
      { tenantId: tenant.id, actor: service("x".repeat(5000)), action: "key.wrap", outcome: "success", request, requiresAccess: false, details: { dataLabel: "y".repeat(10_000) } },
      { tenantId: tenant.id, actor: service("big"), action: "key.batch_wrap", outcome: "success", request, requiresAccess: false, details: { items: 1e30, dataLabels: ["z"] } },
    ]);
    expect(await rollUpChain(tenant.id, { budgetMs: 60_000 })).toEqual({ counted: 2, caughtUp: true, busy: false });
    const labels = await getDb().auditUsageLabelDaily.findMany({ where: { chain: tenant.id }, orderBy: { dataLabel: "asc" } });
    expect(labels.map((l) => [l.dataLabel.length, Number(l.items)])).toEqual([
      [200, 1],
      [1, 1_000_000_000],
    ]);
  });

  it("the background job npm start runs counts new events within seconds", async () => {
    const tenant = await makeTenant("periodic");
    const job = backgroundJobs({ AUDIT_CHECKPOINT_INTERVAL_MINUTES: 60 } as Env).find((j) => j.name === "audit-usage-rollup");
    expect(job?.intervalMs).toBeLessThanOrEqual(10_000);
    const runner = startJobRunner([job!]);
    try {
      await appendKeyServiceEvents(keyServiceMix(tenant, 24));
      await expect.poll(async () => (await getDb().auditUsageWatermark.findUnique({ where: { chain: tenant.id } }))?.rolledSeq ?? 0n, { timeout: 15_000, interval: 250 }).toBe(24n);
    } finally {
      await runner.stop();
    }
    await expectRollupMatchesTrail(tenant.id);
  });
});

describe("who may read usage", () => {
  it("a page view counts what the job has not reached yet", async () => {
    await appendKeyServiceEvents(keyServiceMix(globex, 8, "globex-"));
    const usage = await getTenantUsage(people.globexAdmin, globex.id);
    expect(usage.daily.buckets.reduce((n, b) => n + b.total.events, 0)).toBe(32);
    expect(usage.freshness.pending).toBe(0);
  });

  it("admins and auditors read their tenant's usage; another tenant's is refused to them, the vendor and strangers", async () => {
    expect((await getTenantUsage(people.acmeAuditor, acme.id)).labels.map((l) => l.label)).toEqual(["payroll", "invoices"]);
    for (const caller of [people.acmeAdmin, people.acmeAuditor, people.vendor, people.outsider]) {
      expect(await refusedWith(getTenantUsage(caller, globex.id))).toBe("forbidden");
    }
    // Malformed or re-spelled ids are refused the same way, never a database error.
    for (const id of ["not-a-uuid", globex.id.toUpperCase(), "vendor", "", `${globex.id}' OR '1'='1`]) {
      expect(await refusedWith(getTenantUsage(people.acmeAdmin, id))).toBe("forbidden");
    }
  });

  it("a tenant's usage holds nothing of another tenant's", async () => {
    const usage = JSON.stringify(await getTenantUsage(people.acmeAdmin, acme.id));
    expect(usage).not.toContain("globex");
    for (const key of globex.keys) expect(usage).not.toContain(key);
  });

  it("the vendor sees per-tenant counts only: no labels, actors, object or key ids", async () => {
    expect(await refusedWith(getVendorUsage(people.acmeAdmin))).toBe("forbidden");
    expect(await refusedWith(getVendorUsage(people.outsider))).toBe("forbidden");

    const usage = await getVendorUsage(people.vendor);
    const acmeRow = usage.tenants.find((t) => t.tenantId === acme.id)!;
    expect(acmeRow).toMatchObject({ slug: "acme", calls30d: 96, items30d: 288, refused30d: 24, failed30d: 12, calls24h: 88 });
    expect(acmeRow.errorRate30d).toBeCloseTo(12 / 96);
    expect(acmeRow.lastUsedAt).not.toBeNull();
    expect(Object.keys(acmeRow).sort()).toEqual(
      ["calls24h", "calls30d", "errorRate30d", "failed30d", "items24h", "items30d", "lastUsedAt", "name", "refused30d", "slug", "tenantId"].sort(),
    );
    const text = JSON.stringify(usage);
    for (const secret of ["invoices", "payroll", "billing-app", "search-indexer", "admin@acme.example", "auditor@acme.example", "o-1", ...acme.keys, ...globex.keys]) {
      expect(text).not.toContain(secret);
    }
    const total = usage.daily.buckets.reduce((n, b) => n + b.total.events, 0);
    const perTenant = usage.tenants.reduce((n, t) => n + t.calls30d, 0);
    expect(total).toBe(perTenant);
  });
});
