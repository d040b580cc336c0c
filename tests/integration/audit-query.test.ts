import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AuditInput, appendAuditEvent, listTenantEvents, tenantEvent, verifyStoredChain } from "@/lib/audit";
import { type AuditFilter, parseAuditQuery } from "@/lib/audit/query/filter";
import { queryAuditPage, streamAuditEvents } from "@/lib/audit/query/query";
import { disconnectDb, getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import type { Caller } from "@/lib/authz";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The trail's filters and keyset paging on PostgreSQL, checked against the same filter
// applied by hand to the whole chain: every combination returns exactly the matching events,
// in order, across pages, with nothing repeated or skipped, even while events are appended;
// and nothing of another tenant's chain is ever reachable.

let database: TestDatabase;
let a: { tenantId: string; caller: Caller; kmsKeyId: string; tenantKeyIds: string[] };
let b: { tenantId: string; caller: Caller };
const request = { sourceIp: "10.0.0.1", userAgent: "test", requestId: null };
const T0 = new Date("2026-11-01T00:00:00.000Z").getTime();

async function member(slug: string) {
  const tenant = await getDb().tenant.create({ data: { slug, name: slug } });
  const user = await getDb().user.create({ data: { email: `admin@${slug}.example` } });
  await getDb().membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "ADMIN" } });
  return { tenantId: tenant.id, caller: { userId: user.id, request } satisfies Caller };
}

async function append(input: AuditInput, at?: number): Promise<void> {
  if (at !== undefined) vi.setSystemTime(at);
  await getDb().$transaction((tx) => appendAuditEvent(tx, input));
}

/** A varied trail: key-service calls (single and batch), console actions, refusals, odd characters. */
async function fillTrail(tenantId: string, tenantKeyIds: string[], kmsKeyId: string, minuteOffset: number): Promise<void> {
  const actors = [
    { type: "service", id: "c-1", label: "billing-app" },
    { type: "service", id: "c-2", label: "search_indexer" },
    { type: "user", id: "u-1", label: "ana@corp.example" },
  ] as const;
  const labels = ["invoices", "payroll", "100%_raw"];
  for (let i = 0; i < 60; i++) {
    const at = T0 + (minuteOffset + Math.floor(i / 2)) * 60_000; // pairs share a millisecond: seq breaks the tie
    const actor = actors[i % 3]!;
    const outcome = i % 7 === 0 ? "denied" : i % 11 === 0 ? "failure" : "success";
    const key = tenantKeyIds[i % tenantKeyIds.length]!;
    if (i % 10 === 9) {
      await append(
        {
          tenantId,
          actor,
          action: "key.batch_unwrap",
          target: { type: "tenant_key", id: key },
          outcome,
          request: { ...request, requestId: `batch-${i}` },
          details: { items: 2, dataLabels: [labels[i % 3]!, "shared"], objectIds: [`obj-${i}`, `obj-${i + 1000}`], failedItems: [] },
        },
        at,
      );
    } else if (i % 10 === 4) {
      await append({ tenantId, actor, action: "key.verified", target: { type: "kms_key", id: kmsKeyId }, outcome, request, details: null as never }, at);
    } else {
      await append(
        {
          tenantId,
          actor,
          action: i % 2 === 0 ? "key.unwrap" : "key.wrap",
          target: { type: "tenant_key", id: key },
          outcome,
          request: { ...request, requestId: `req-${i}` },
          details: {
            dataLabel: labels[i % 3]!,
            objectId: `obj-${i}`,
            onBehalfOf: i % 4 === 0 ? "bob@customer.example" : "carol@customer.example",
            reason: i === 13 ? "Quarterly \"close\" – ünïcode" : "render",
          },
        },
        at,
      );
    }
  }
}

/** The filter applied by hand, as the query must apply it. */
function matches(event: AuditEvent, f: AuditFilter, keyIds: Set<string>): boolean {
  const d = (event.details ?? {}) as Record<string, unknown>;
  const has = (field: string, value: string) => Array.isArray(d[field]) && (d[field] as unknown[]).includes(value);
  const text = [event.actorLabel, event.action, event.targetId, event.requestId, event.sourceIp, d.onBehalfOf, d.dataLabel, d.dataLabels ? JSON.stringify(d.dataLabels) : null, d.objectId, d.objectIds ? JSON.stringify(d.objectIds) : null, d.reason, d.custodyRequestId, d.code]
    .map((v) => (v == null ? "" : String(v)))
    .join(" ")
    .toLowerCase();
  return (
    (!f.action || event.action === f.action) &&
    (!f.outcome || event.outcome === f.outcome.toUpperCase()) &&
    (!f.actor || event.actorLabel === f.actor || d.onBehalfOf === f.actor) &&
    (!f.key || keyIds.has(event.targetId ?? "")) &&
    (!f.label || d.dataLabel === f.label || has("dataLabels", f.label)) &&
    (!f.object || d.objectId === f.object || has("objectIds", f.object)) &&
    (!f.request || event.requestId === f.request || d.custodyRequestId === f.request) &&
    (!f.from || event.occurredAt >= f.from) &&
    (!f.to || event.occurredAt < f.to) &&
    (!f.q || text.includes(f.q.toLowerCase()))
  );
}

async function allPages(chain: string, filter: AuditFilter, limit: number): Promise<bigint[]> {
  const seqs: bigint[] = [];
  let before;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await queryAuditPage(chain, filter, { before, limit });
    seqs.push(...page.events.map((e) => e.seq));
    if (!page.next) return seqs;
    before = parseAuditQuery({ before: page.next }).query.before;
  }
  throw new Error("paging did not end");
}

async function chainEvents(chain: string): Promise<AuditEvent[]> {
  return getDb().auditEvent.findMany({ where: { chain }, orderBy: [{ occurredAt: "desc" }, { seq: "desc" }] });
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  vi.useFakeTimers({ toFake: ["Date"] });
  const ma = await member("acme");
  const kms = await getDb().kmsKey.create({
    data: { tenantId: ma.tenantId, provider: "aws", keyRef: "arn:aws:kms:eu-west-1:111122223333:key/0b7d1e3a-1111-4222-8333-944445555666", keyDetails: { partition: "aws", region: "eu-west-1", accountId: "111122223333", multiRegion: false, grantIds: [] } },
  });
  const tenantKeys = await Promise.all(
    [1, 2].map((version) => getDb().tenantKey.create({ data: { tenantId: ma.tenantId, kmsKeyId: kms.id, wrappedKey: Buffer.from("x"), version } })),
  );
  a = { ...ma, kmsKeyId: kms.id, tenantKeyIds: tenantKeys.map((k) => k.id) };
  b = await member("globex");
  await fillTrail(a.tenantId, a.tenantKeyIds, a.kmsKeyId, 0);
  await fillTrail(b.tenantId, ["7d0e2a51-0000-4000-8000-000000000001"], "7d0e2a51-0000-4000-8000-000000000002", 30);
  vi.useRealTimers();
});

afterAll(async () => {
  vi.useRealTimers();
  await disconnectDb();
  await database?.drop();
});

describe("audit trail filters", () => {
  const filters: Array<[string, AuditFilter]> = [
    ["none", {}],
    ["action", { action: "key.unwrap" }],
    ["outcome", { outcome: "denied" }],
    ["actor label", { actor: "billing-app" }],
    ["actor on behalf of", { actor: "bob@customer.example" }],
    ["data label, single and batch", { label: "payroll" }],
    ["batch-only label", { label: "shared" }],
    ["object id, single and batch", { object: "obj-1009" }],
    ["request id", { request: "req-12" }],
    ["time range", { from: new Date(T0 + 10 * 60_000), to: new Date(T0 + 20 * 60_000 + 1) }],
    ["free text, case-insensitive", { q: "QUARTERLY \"CLOSE\"" }],
    ["free text with LIKE wildcards taken literally", { q: "100%_r" }],
    ["action + outcome + actor", { action: "key.wrap", outcome: "success", actor: "search_indexer" }],
    ["label + time + text", { label: "invoices", from: new Date(T0 + 5 * 60_000), q: "obj-2" }],
  ];

  it.each(filters)("%s: exactly the matching events, newest first, across pages", async (_name, filter) => {
    const expected = (await chainEvents(a.tenantId)).filter((e) => matches(e, filter, new Set())).map((e) => e.seq);
    if (Object.keys(filter).length > 0) expect(expected.length).toBeGreaterThan(0);
    expect(await allPages(a.tenantId, filter, 7)).toEqual(expected);
    expect(await allPages(a.tenantId, filter, 200)).toEqual(expected);
  });

  it("a KMS key stands for its console events and every use of the tenant keys it wraps", async () => {
    const keyIds = new Set([a.kmsKeyId, ...a.tenantKeyIds]);
    const all = await chainEvents(a.tenantId);
    const expected = all.filter((e) => matches(e, { key: a.kmsKeyId }, keyIds)).map((e) => e.seq);
    expect(expected).toHaveLength(60);
    expect(await allPages(a.tenantId, { key: a.kmsKeyId }, 9)).toEqual(expected);
    const one = all.filter((e) => e.targetId === a.tenantKeyIds[0]).map((e) => e.seq);
    expect(await allPages(a.tenantId, { key: a.tenantKeyIds[0]! }, 9)).toEqual(one);
    expect(one.length).toBeLessThan(expected.length);
  });

  it("the time range includes its start and excludes its end", async () => {
    const all = await chainEvents(a.tenantId);
    const event = all[30]!;
    const seqs = await allPages(a.tenantId, { from: event.occurredAt, to: new Date(event.occurredAt.getTime() + 1) }, 50);
    expect(seqs).toContain(event.seq);
    expect(await allPages(a.tenantId, { to: event.occurredAt }, 50)).not.toContain(event.seq);
  });

  it("streams every matching event once, in order, a batch at a time", async () => {
    const expected = (await chainEvents(a.tenantId)).filter((e) => matches(e, { outcome: "success" }, new Set())).map((e) => e.seq);
    const seen: bigint[] = [];
    for await (const event of streamAuditEvents(a.tenantId, { outcome: "success" }, 4)) seen.push(event.seq);
    expect(seen).toEqual(expected);
  });
});

describe("keyset paging while events are appended", () => {
  it("pages through what existed, with no duplicate and no hole, while new events land before page one", async () => {
    const { tenantId } = await member("initech");
    const request2 = { ...request, requestId: null };
    for (let i = 0; i < 120; i++) {
      await append({ tenantId, actor: { type: "system", id: null, label: "custody" }, action: "key.unwrap", outcome: "success", request: request2, details: { objectId: `o-${i}` } });
    }
    const existing = (await chainEvents(tenantId)).map((e) => e.seq);
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        await append({ tenantId, actor: { type: "system", id: null, label: "custody" }, action: "key.wrap", outcome: "success", request: request2, details: { objectId: `new-${n++}` } });
      }
      return n;
    })();
    const first = await queryAuditPage(tenantId, {}, { limit: 10 });
    const seen = [...first.events.map((e) => e.seq)];
    let before = parseAuditQuery({ before: first.next! }).query.before;
    while (before) {
      const page = await queryAuditPage(tenantId, {}, { before, limit: 10 });
      seen.push(...page.events.map((e) => e.seq));
      before = page.next ? parseAuditQuery({ before: page.next }).query.before : undefined;
    }
    writing = false;
    const appended = await writer;
    expect(appended).toBeGreaterThan(0);
    const head = seen[0]!;
    // Page one may hold some of the new events; every page after it continues exactly where it was.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((s) => s <= existing[0]!)).toEqual(existing);
    expect(seen).toEqual([...seen].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0)));
    expect(head).toBeGreaterThanOrEqual(existing[0]!);
  });
});

describe("tenant isolation", () => {
  it("a member of one tenant cannot list or open another tenant's events", async () => {
    await expect(listTenantEvents(a.caller, b.tenantId)).rejects.toMatchObject({ code: "forbidden" });
    await expect(tenantEvent(a.caller, b.tenantId, 1n)).rejects.toMatchObject({ code: "forbidden" });
    const mine = await listTenantEvents(a.caller, a.tenantId, { limit: 200 });
    expect(mine.events.length).toBeGreaterThan(0);
    expect(mine.events.every((e) => e.chain === a.tenantId && e.tenantId === a.tenantId)).toBe(true);
  });

  it("filter values and cursors taken from another tenant's trail reach only one's own chain", async () => {
    const theirs = await listTenantEvents(b.caller, b.tenantId, { limit: 5 });
    const cursor = parseAuditQuery({ before: theirs.next! }).query.before;
    const page = await listTenantEvents(a.caller, a.tenantId, { before: cursor, limit: 200 });
    expect(page.events.every((e) => e.chain === a.tenantId)).toBe(true);
    const theirKey = "7d0e2a51-0000-4000-8000-000000000001";
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { key: theirKey } })).events).toEqual([]);
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { q: "7d0e2a51" } })).events).toEqual([]);
  });

  it("files an event given an upper-case tenant id in the tenant's one chain, where readers look", async () => {
    const { tenantId } = await member("umbrella");
    await append({ tenantId: tenantId.toUpperCase(), actor: { type: "system", id: null, label: "custody" }, action: "key.verified", outcome: "success", request });
    const chains = await getDb().auditChain.findMany({ where: { chain: { in: [tenantId, tenantId.toUpperCase()] } } });
    expect(chains.map((c) => c.chain)).toEqual([tenantId]);
    const [event] = (await queryAuditPage(tenantId, { action: "key.verified" }, { limit: 5 })).events;
    expect(event).toMatchObject({ chain: tenantId, tenantId });
    expect((await verifyStoredChain(tenantId)).intact).toBe(true);
  });

  it("opens an event of one's own chain by number, with its cursor just above it", async () => {
    const focus = await tenantEvent(a.caller, a.tenantId, 17n);
    expect(focus?.event.seq).toBe(17n);
    const page = await listTenantEvents(a.caller, a.tenantId, { before: focus!.cursor, limit: 1 });
    expect(page.events[0]?.seq).toBe(17n);
    expect(await tenantEvent(a.caller, a.tenantId, 100_000n)).toBeNull();
  });
});
