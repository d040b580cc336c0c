import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AuditInput, appendAuditEvent, listTenantEvents } from "@/lib/audit";
import { type AuditFilter, parseAuditQuery } from "@/lib/audit/query/filter";
import { filterCondition, queryAuditPage, searchIndexedSeq } from "@/lib/audit/query/query";
import { dropPrunedSearchRows, indexAll, indexChain, indexChainBatch } from "@/lib/audit/search/indexer";
import type { Env } from "@/lib/config";
import { disconnectDb, getDb, Prisma } from "@/lib/db";
import type { Caller } from "@/lib/authz";
import { backgroundJobs, startJobRunner } from "@/lib/jobs";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// audit_search (migration 20261204130000, lib/audit/search) against the chain it indexes: the
// job follows appends; a page through the search equals the same filter applied to audit_events
// alone (the query as it was before the search structure), whether the search is caught up,
// half-way or not started; an interrupted or doubled indexer leaves each event indexed once;
// and no filter reaches another tenant's chain.

let database: TestDatabase;
type Member = { tenantId: string; caller: Caller };
let a: Member;
let b: Member;
const request = { sourceIp: "10.0.0.1", userAgent: "test", requestId: null };

async function member(slug: string): Promise<Member> {
  const tenant = await getDb().tenant.create({ data: { slug, name: slug } });
  const user = await getDb().user.create({ data: { email: `admin@${slug}.example` } });
  await getDb().membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "ADMIN" } });
  return { tenantId: tenant.id, caller: { userId: user.id, request } };
}

async function append(input: AuditInput): Promise<void> {
  await getDb().$transaction((tx) => appendAuditEvent(tx, input));
}

/** Key-service calls single and batch, console actions, refusals, odd characters; `tag` makes values unique to the chain. */
async function fillTrail(tenantId: string, tag: string, count: number): Promise<void> {
  const actors = [
    { type: "service", id: "c-1", label: "billing-app" },
    { type: "service", id: "c-2", label: "search_indexer" },
    { type: "user", id: "u-1", label: `ana@${tag}.example` },
  ] as const;
  const labels = ["invoices", "payroll", "100%_raw"];
  for (let i = 0; i < count; i++) {
    const actor = actors[i % 3]!;
    const outcome = i % 7 === 0 ? "denied" : i % 11 === 0 ? "failure" : "success";
    if (i % 10 === 9) {
      await append({
        tenantId,
        actor,
        action: "key.batch_unwrap",
        target: { type: "tenant_key", id: `${tag}-key-${i % 2}` },
        outcome,
        request: { ...request, requestId: `${tag}-batch-${i}` },
        details: { items: 2, dataLabels: [labels[i % 3]!, "shared"], objectIds: [`${tag}-obj-${i}`, `${tag}-obj-${i + 1000}`], failedItems: [] },
      });
    } else if (i % 10 === 4) {
      await append({ tenantId, actor, action: "key.verified", target: { type: "kms_key", id: `${tag}-kms` }, outcome, request });
    } else {
      await append({
        tenantId,
        actor,
        action: i % 2 === 0 ? "key.unwrap" : "key.wrap",
        target: { type: "tenant_key", id: `${tag}-key-${i % 2}` },
        outcome,
        request: { ...request, requestId: `${tag}-req-${i}` },
        details: {
          dataLabel: labels[i % 3]!,
          objectId: `${tag}-obj-${i}`,
          onBehalfOf: i % 4 === 0 ? `bob@${tag}.example` : "carol@customer.example",
          reason: i === 13 ? `Quarterly "close" – ünïcode ${tag}` : "render",
          ...(i % 6 === 0 ? { custodyRequestId: `${tag}-custody-${i}` } : {}),
        },
      });
    }
  }
}

/** The filter on audit_events alone, without audit_search: the query as it was before it. */
async function reference(chain: string, filter: AuditFilter): Promise<bigint[]> {
  const rows = await getDb().$queryRaw<Array<{ seq: bigint }>>(
    Prisma.sql`SELECT seq FROM audit_events WHERE ${filterCondition(chain, filter)} ORDER BY occurred_at DESC, seq DESC`,
  );
  return rows.map((r) => BigInt(r.seq));
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

async function headSeq(chain: string): Promise<bigint> {
  return (await getDb().auditChain.findUnique({ where: { chain } }))?.seq ?? 0n;
}

async function searchRows(chain: string): Promise<bigint[]> {
  return (await getDb().auditSearch.findMany({ where: { chain }, orderBy: { seq: "asc" }, select: { seq: true } })).map((r) => r.seq);
}

const FILTERS = (tag: string): Array<[string, AuditFilter]> => [
  ["actor label", { actor: "billing-app" }],
  ["actor on behalf of", { actor: `bob@${tag}.example` }],
  ["data label, single and batch", { label: "payroll" }],
  ["batch-only label", { label: "shared" }],
  ["object id, single", { object: `${tag}-obj-12` }],
  ["object id, batch", { object: `${tag}-obj-1009` }],
  ["request id", { request: `${tag}-req-12` }],
  ["Custody's request id", { request: `${tag}-custody-18` }],
  ["free text, common", { q: "render" }],
  ["free text, rare", { q: `${tag}-obj-21` }],
  ["free text, rare, probed by its number", { q: `${tag}-obj-1009` }],
  ["free text across words, probed by one", { q: `ana@${tag}.exa` }],
  ["free text, case-insensitive", { q: "QUARTERLY \"CLOSE\"" }],
  ["free text with LIKE wildcards taken literally", { q: "100%_r" }],
  ["free text + outcome + action", { q: "billing", outcome: "success", action: "key.wrap" }],
  ["label + text + time", { label: "invoices", q: `${tag}-obj-2`, from: new Date(Date.now() - 3600_000) }],
  ["actor + label", { actor: "carol@customer.example", label: "100%_raw" }],
  ["free text, nowhere", { q: "no such text anywhere" }],
];

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  a = await member("acme");
  b = await member("globex");
  await fillTrail(a.tenantId, "acme", 70);
  await fillTrail(b.tenantId, "globex", 40);
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("the search follows the chain", () => {
  it("the audit-search job npm start runs indexes new events within seconds, and pages come through it", async () => {
    const job = backgroundJobs({ AUDIT_CHECKPOINT_INTERVAL_MINUTES: 60 } as Env).find((j) => j.name === "audit-search");
    expect(job?.intervalMs).toBeLessThanOrEqual(5_000);
    const { tenantId } = await member("periodic");
    const runner = startJobRunner([job!]);
    try {
      await fillTrail(tenantId, "periodic", 12);
      await vi.waitFor(async () => expect(await searchIndexedSeq(tenantId)).toBe(12n), { timeout: 20_000, interval: 200 });
      await append({ tenantId, actor: { type: "service", id: "c-9", label: "late-app" }, action: "key.unwrap", outcome: "success", request, details: { objectId: "late-object" } });
      await vi.waitFor(async () => expect(await searchIndexedSeq(tenantId)).toBe(13n), { timeout: 20_000, interval: 200 });
    } finally {
      await runner.stop();
    }
    expect(await searchRows(tenantId)).toEqual(Array.from({ length: 13 }, (_, i) => BigInt(i + 1)));
    const page = await queryAuditPage(tenantId, { q: "late-obj" }, { limit: 10 });
    expect(page.events.map((e) => e.seq)).toEqual([13n]);
  });

  it("before, half-way through and after indexing, every filter returns exactly what the filter on audit_events returns", async () => {
    const { tenantId } = await member("halfway");
    await fillTrail(tenantId, "halfway", 70);
    const check = async () => {
      for (const [name, filter] of FILTERS("halfway")) {
        const expected = await reference(tenantId, filter);
        if (name !== "free text, nowhere") expect(expected.length, name).toBeGreaterThan(0);
        expect(await allPages(tenantId, filter, 7), name).toEqual(expected);
        expect(await allPages(tenantId, filter, 200), name).toEqual(expected);
      }
    };
    expect(await searchIndexedSeq(tenantId)).toBe(0n);
    await check(); // all of it the tail
    expect(await indexChainBatch(tenantId, 33)).toEqual({ indexed: 33, caughtUp: false, busy: false });
    expect(await searchIndexedSeq(tenantId)).toBe(33n);
    await check(); // half indexed, half tail
    expect(await indexChain(tenantId, { budgetMs: 60_000 })).toMatchObject({ indexed: 37, caughtUp: true });
    await check(); // all indexed
    expect(await searchRows(tenantId)).toEqual(Array.from({ length: 70 }, (_, i) => BigInt(i + 1)));
  });

  it("the search's rows are what the filter conditions on audit_events say: a row with wrong text is what the page shows", async () => {
    // Proof that indexed pages are read from audit_search (not from audit_events again): a
    // tampered search row changes the page, the tail does not.
    await indexChain(a.tenantId, { budgetMs: 60_000 });
    await getDb().$executeRaw`UPDATE audit_search SET text = text || ' planted-word' WHERE chain = ${a.tenantId} AND seq = 5`;
    try {
      expect((await queryAuditPage(a.tenantId, { q: "planted-word" }, { limit: 10 })).events.map((e) => e.seq)).toEqual([5n]);
    } finally {
      await getDb().$executeRaw`UPDATE audit_search SET text = replace(text, ' planted-word', '') WHERE chain = ${a.tenantId} AND seq = 5`;
    }
  });
});

describe("downtime, restarts and two indexers", () => {
  it("catches up after downtime in bounded batches, and a batch that fails commits nothing", async () => {
    const { tenantId } = await member("downtime");
    await fillTrail(tenantId, "downtime", 25);
    // A batch that fails part-way (here: the statement is cancelled) leaves rows and watermark as they were.
    await expect(
      getDb().$transaction(async (tx) => {
        await tx.$executeRaw`SET LOCAL statement_timeout = 1`;
        await tx.$executeRaw`SELECT pg_sleep(0.05)`;
      }),
    ).rejects.toThrow();
    await expect(
      getDb().$transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO audit_search (chain, seq, occurred_at, text, refs) VALUES (${tenantId}, 1, now(), 'x', '{}')`;
        throw new Error("indexer died");
      }),
    ).rejects.toThrow("indexer died");
    expect(await searchRows(tenantId)).toEqual([]);
    // The job restarts from the watermark, 10 at a time; the pages are complete throughout.
    const progress: bigint[] = [];
    for (;;) {
      const step = await indexChainBatch(tenantId, 10);
      progress.push(await searchIndexedSeq(tenantId));
      expect(await allPages(tenantId, { q: "downtime-obj-2" }, 5)).toEqual(await reference(tenantId, { q: "downtime-obj-2" }));
      if (step.caughtUp) break;
    }
    expect(progress).toEqual([10n, 20n, 25n]);
    expect(await searchRows(tenantId)).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i + 1)));
  });

  it("two indexers at once index every event exactly once", async () => {
    const { tenantId } = await member("doubled");
    await fillTrail(tenantId, "doubled", 30);
    const results = await Promise.all([indexAll({ budgetMs: 60_000, batchSize: 4 }), indexAll({ budgetMs: 60_000, batchSize: 4 })]);
    // Whichever lost a race for the chain comes back for it; run once more to be sure both are done.
    await indexAll({ budgetMs: 60_000 });
    expect(results.reduce((n, r) => n + r.indexed, 0)).toBeLessThanOrEqual(30 + 200);
    expect(await searchRows(tenantId)).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
    expect(await searchIndexedSeq(tenantId)).toBe(await headSeq(tenantId));
  });

  it("rows of pruned events are removed up to the chain's anchor", async () => {
    const { tenantId } = await member("pruned");
    await fillTrail(tenantId, "pruned", 8);
    await indexChain(tenantId, { budgetMs: 60_000 });
    const [fifth, eighth] = await Promise.all([5n, 8n].map((seq) => getDb().auditEvent.findFirst({ where: { chain: tenantId, seq } })));
    // Retention's anchor must be covered by a checkpoint (migration 20261129090000).
    await getDb().auditCheckpoint.create({ data: { chain: tenantId, seq: 8n, headHash: eighth!.hash, signedAt: new Date(), keyId: "test", signature: Buffer.from("x") } });
    await getDb().auditAnchor.create({ data: { chain: tenantId, seq: 5n, hash: fifth!.hash } });
    expect(await dropPrunedSearchRows()).toBe(5);
    expect(await searchRows(tenantId)).toEqual([6n, 7n, 8n]);
  });
});

describe("tenant isolation", () => {
  it("no filter through the search reaches another tenant's chain, indexed or not", async () => {
    await indexAll({ budgetMs: 60_000 });
    expect(await searchIndexedSeq(b.tenantId)).toBe(await headSeq(b.tenantId));
    // Values found only in globex's chain, through every search field.
    const theirs: AuditFilter[] = [
      { q: "globex" },
      { q: "globex-obj-21" },
      { actor: "bob@globex.example" },
      { object: "globex-obj-12" },
      { request: "globex-req-12" },
      { request: "globex-custody-18" },
      { label: "globex" },
    ];
    for (const filter of theirs) {
      expect(await reference(b.tenantId, filter).then((r) => r.length > 0 || filter.label !== undefined)).toBe(true);
      expect((await listTenantEvents(a.caller, a.tenantId, { filter })).events, JSON.stringify(filter)).toEqual([]);
    }
    // Values shared by both chains come back from one's own chain only.
    const mine = await listTenantEvents(a.caller, a.tenantId, { filter: { q: "render" }, limit: 200 });
    expect(mine.events.length).toBeGreaterThan(0);
    expect(mine.events.every((e) => e.chain === a.tenantId)).toBe(true);
    await expect(listTenantEvents(a.caller, b.tenantId, { filter: { q: "render" } })).rejects.toMatchObject({ code: "forbidden" });
  });

  it("a tag of one filter kind never matches another kind, and hostile values are plain values", async () => {
    // ana@acme.example is an actor label: as a data label or object it matches nothing.
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { actor: "ana@acme.example" } })).events.length).toBeGreaterThan(0);
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { label: "ana@acme.example" } })).events).toEqual([]);
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { object: "actor:ana@acme.example" } })).events).toEqual([]);
    expect((await listTenantEvents(a.caller, a.tenantId, { filter: { label: "actor:billing-app" } })).events).toEqual([]);
    for (const q of ["' OR '1'='1", "%%%", "___", "\\", `${b.tenantId}`]) {
      const page = await listTenantEvents(a.caller, a.tenantId, { filter: { q } });
      expect(page.events.map((e) => e.seq)).toEqual((await reference(a.tenantId, { q })).slice(0, 50));
    }
  });
});
