import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signDueCheckpoints } from "@/lib/audit/integrity/checkpoints";
import { forgetDeploymentSigningKey, parseSigningKeyPem } from "@/lib/audit/integrity/signing-key";
import { verifyChainIntegrity } from "@/lib/audit/integrity/verify-chain";
import { dropExpiredPartitions, ensureAuditPartitions, listAuditPartitions } from "@/lib/audit/trail/partitions";
import { disconnectDb, getDb } from "@/lib/db";
import { appendEvents, newSigningKeyPem } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { runScript } from "../helpers/run-script";

// audit_events is partitioned by month (migration 20261204135000). Retention drops a whole month
// only once every chain's events in it are behind that chain's signed anchor; what remains
// verifies from the anchor, and the database refuses a drop no anchor covers.

const SIGNING_KEY = newSigningKeyPem();
const key = parseSigningKeyPem(SIGNING_KEY);
let database: TestDatabase;

const DAY = 86_400_000;
const now = new Date();
/** The first instant of the UTC month `offset` months from now. */
const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
const partitionName = (at: Date) => `audit_events_y${at.getUTCFullYear()}m${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
// Three past months, oldest first.
const MONTHS = [month(-4), month(-3), month(-2)];

async function query(sql: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** Appends events to each chain as if on the 10th of the given month. */
async function appendIn(at: Date, counts: Array<[string, number]>): Promise<void> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(at.getTime() + 9 * DAY));
  try {
    for (const [tenantId, n] of counts) {
      const { _max } = await getDb().auditEvent.aggregate({ where: { chain: tenantId }, _max: { seq: true } });
      await appendEvents(tenantId, n, Number(_max.seq ?? 0n));
    }
  } finally {
    vi.useRealTimers();
  }
}

let a: string;
let b: string;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.AUDIT_SIGNING_KEY = SIGNING_KEY;
  forgetDeploymentSigningKey();
  a = (await getDb().tenant.create({ data: { slug: "part-a", name: "A" } })).id;
  b = (await getDb().tenant.create({ data: { slug: "part-b", name: "B" } })).id;
  expect(await ensureAuditPartitions({ now: MONTHS[0] })).toBeGreaterThanOrEqual(3);
  await appendIn(MONTHS[0]!, [[a, 5], [b, 3]]);
  await appendIn(MONTHS[1]!, [[a, 4], [b, 2]]);
  await appendIn(MONTHS[2]!, [[a, 3], [b, 3]]);
});

afterAll(async () => {
  vi.useRealTimers();
  await disconnectDb();
  await database?.drop();
});

const monthOf = async (seq: number, chain: string) =>
  (await query("SELECT tableoid::regclass::text AS part FROM audit_events WHERE chain = $1 AND seq = $2", [chain, seq])).rows[0]?.part;

describe("monthly partitions", () => {
  it("keeps each month's events in that month's partition, with a partition ready for the coming months", async () => {
    expect(await monthOf(1, a)).toBe(partitionName(MONTHS[0]!));
    expect(await monthOf(6, a)).toBe(partitionName(MONTHS[1]!));
    expect(await monthOf(12, a)).toBe(partitionName(MONTHS[2]!));
    await ensureAuditPartitions();
    const names = (await listAuditPartitions()).map((p) => p.name);
    for (const ahead of [0, 1, 2, 3]) expect(names).toContain(partitionName(month(ahead)));
    // Nothing landed in the catch-all.
    expect((await query("SELECT count(*)::int AS n FROM audit_events_default")).rows[0].n).toBe(0);
  });

  it("refuses to truncate a month, or the trail", async () => {
    await expect(query(`TRUNCATE ${partitionName(MONTHS[0]!)}`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    await expect(query("TRUNCATE audit_events")).rejects.toThrow(/append-only: TRUNCATE refused/);
  });
});

describe("retention by month, behind a signed anchor", () => {
  // A retention period that has the oldest month, and only it, wholly behind it.
  const retention = { now: new Date(MONTHS[1]!.getTime() + 10 * DAY), retentionDays: 5 };

  it("keeps a month no signed checkpoint covers yet, and the database refuses to drop it", async () => {
    const [held] = await dropExpiredPartitions(retention);
    expect(held).toMatchObject({ partition: partitionName(MONTHS[0]!), dropped: false });
    expect(held!.heldBy.sort()).toEqual([a, b].sort());
    // Dropped directly, past the code: refused, since no anchor covers its events.
    await expect(query("SELECT custody_audit_drop_partition($1)", [partitionName(MONTHS[0]!)])).rejects.toThrow(
      /holds events of chain .* up to #\d+ that no retention anchor covers/,
    );
    // A month that has not ended, and the catch-all, never.
    await expect(query("SELECT custody_audit_drop_partition($1)", [partitionName(month(0))])).rejects.toThrow(/has not ended/);
    await expect(query("SELECT custody_audit_drop_partition('audit_events_default')")).rejects.toThrow(/default partition is never dropped/);
    expect(await getDb().auditEvent.count({ where: { chain: { in: [a, b] } } })).toBe(20);
    expect(await getDb().auditAnchor.count()).toBe(0);
    expect((await listAuditPartitions()).map((p) => p.name)).toContain(partitionName(MONTHS[0]!));
  });

  it("drops the oldest month once signed, moves each chain's anchor past it, and the rest verifies from the anchor", async () => {
    await signDueCheckpoints();
    const fifth = await getDb().auditEvent.findFirstOrThrow({ where: { chain: a, seq: 5n } });

    const results = await dropExpiredPartitions(retention);
    expect(results).toEqual([expect.objectContaining({ partition: partitionName(MONTHS[0]!), dropped: true, events: 8, heldBy: [] })]);
    expect((await listAuditPartitions()).map((p) => p.name)).not.toContain(partitionName(MONTHS[0]!));
    expect(await getDb().auditEvent.count({ where: { chain: a, seq: { lte: 5n } } })).toBe(0);
    expect(await getDb().auditAnchor.findUnique({ where: { chain: a } })).toMatchObject({ seq: 5n, hash: fifth.hash });
    expect(await getDb().auditAnchor.findUnique({ where: { chain: b } })).toMatchObject({ seq: 3n });
    const pruned = await getDb().auditEvent.findFirstOrThrow({ where: { chain: a, action: "audit.pruned" } });
    expect(pruned.details).toMatchObject({ count: 5, fromSeq: "1", throughSeq: "5", anchorHash: fifth.hash, partition: partitionName(MONTHS[0]!) });

    const trustedKey = key;
    // 7 events of the later months and the audit.pruned event, from #5's hash on.
    expect(await verifyChainIntegrity(a, { trustedKey })).toMatchObject({ intact: true, events: 8, anchor: { seq: 5n }, checkpoints: { checked: 1 } });
    expect(await verifyChainIntegrity(b, { trustedKey })).toMatchObject({ intact: true, events: 6, anchor: { seq: 3n } });

    const verified = await runScript("audit-verify.ts", ["--tenant", "part-a"], { DATABASE_URL: database.url, AUDIT_SIGNING_KEY: SIGNING_KEY });
    expect(verified.code).toBe(0);
    expect(verified.out).toContain("8 events intact");
    expect(verified.out).toContain("events up to #5 were pruned");

    // Run again: nothing more is due.
    expect(await dropExpiredPartitions(retention)).toEqual([]);
  });
});

describe("ready to distribute the trail by chain", () => {
  // A distributed PostgreSQL (Citus) shards a table by one column and needs that column in every
  // primary key and unique index; the audit tables' is the chain (ARCHITECTURE.md, "How Custody
  // grows past one machine"). Every audit table's key and unique index starts with it.
  it("has the chain first in every primary key and unique index of the audit tables", async () => {
    const { rows } = await query(
      `SELECT t.relname::text AS "table", i.relname::text AS "index",
              (SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[0]) AS "first"
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema() AND t.relname LIKE 'audit\\_%' AND NOT t.relispartition AND x.indisunique
        ORDER BY 1, 2`,
    );
    expect(rows.map((r) => r.table)).toEqual(expect.arrayContaining(["audit_events", "audit_chains", "audit_checkpoints", "audit_anchors"]));
    expect(rows.filter((r) => r.first !== "chain")).toEqual([]);
  });
});
