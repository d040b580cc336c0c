import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, verifyStoredChain } from "@/lib/audit";
import { AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import { disconnectDb, getDb } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitUntil } from "../helpers/wait";

// The key service's group commit, attacked directly: two committers (two instances) and the
// console's own appender writing the same chains at once must leave every chain intact, with
// no gap or duplicate, and a revocation must split a chain cleanly into before and after.

let database: TestDatabase;
let pools: pg.Pool[];
let tenants: string[];

const event = (tenantId: string, n: number, requiresAccess = true): HotAuditEvent => ({
  tenantId,
  actor: { type: "service", id: "cred", label: "app" },
  action: "key.unwrap",
  outcome: "success",
  request: { sourceIp: "127.0.0.1", userAgent: "test 'quoted' \\ agent", requestId: `r-${n}` },
  details: { dataLabel: `label "${n}" ' \\`, objectIds: [`o-${n}`, "ü"], failedItems: [] },
  requiresAccess,
});

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  pools = [0, 1].map(() => {
    const pool = new pg.Pool({ connectionString: database.url, max: 4, options: "-c standard_conforming_strings=on" });
    // Dropping the database at the end terminates any connection still closing; that is not a failure.
    pool.on("error", () => {});
    return pool;
  });
  tenants = [];
  for (const slug of ["gc-a", "gc-b", "gc-c"]) tenants.push((await getDb().tenant.create({ data: { slug, name: slug } })).id);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await disconnectDb();
  await database?.drop();
});

describe("group commit", () => {
  it("keeps every chain intact and gap-free with two committers and the console appending at once", async () => {
    const committers = pools.map((pool) => new AuditGroupCommitter(pool));
    const writes: Array<Promise<unknown>> = [];
    for (let n = 0; n < 600; n++) {
      writes.push(committers[n % 2]!.append(event(tenants[n % 3]!, n)));
      if (n % 50 === 0) {
        writes.push(
          getDb().$transaction(
            (tx) =>
              appendAuditEvent(tx, { tenantId: tenants[n % 3]!, actor: { type: "system", id: null, label: "console" }, action: "key.verified", outcome: "success", request: { sourceIp: null, userAgent: null, requestId: null } }),
            // Queued behind 600 group-committed events: Prisma's 2 s wait for a connection (and
            // 5 s limit) is a race a busy machine loses.
            { maxWait: 60_000, timeout: 60_000 },
          ),
        );
      }
    }
    const results = await Promise.all(writes);
    expect(results).toHaveLength(612);
    await Promise.all(committers.map((c) => c.close()));
    for (const tenantId of tenants) {
      const report = await verifyStoredChain(tenantId);
      expect(report).toMatchObject({ intact: true, events: 204 });
      const seqs = (await getDb().auditEvent.findMany({ where: { chain: tenantId }, select: { seq: true }, orderBy: { seq: "asc" } })).map((e) => Number(e.seq));
      expect(seqs).toEqual(Array.from({ length: 204 }, (_, i) => i + 1));
    }
    // Quotes, backslashes and non-ASCII travel intact.
    const stored = await getDb().auditEvent.findFirstOrThrow({ where: { requestId: "r-7" } });
    expect(stored.details).toEqual({ dataLabel: `label "7" ' \\`, objectIds: ["o-7", "ü"], failedItems: [] });
    expect(stored.userAgent).toBe("test 'quoted' \\ agent");
  });

  it("records uses committed after a revocation as refused, and none before it", async () => {
    const [tenantId] = tenants;
    const committer = new AuditGroupCommitter(pools[0]!);
    const outcomes: boolean[] = [];
    let stop = false;
    const load = (async () => {
      let n = 0;
      while (!stop) outcomes.push((await committer.append(event(tenantId!, 10_000 + n++))).revoked);
    })();
    // Uses before, and (below) after the revocation, however slow the machine.
    await waitUntil(() => outcomes.length >= 3, "uses before the revocation");
    await getDb().$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE tenants SET access_revoked_at = now() WHERE id = ${tenantId}::uuid`;
      await appendAuditEvent(tx, { tenantId: tenantId!, actor: { type: "user", id: null, label: "admin" }, action: "access.revoked", outcome: "success", request: { sourceIp: null, userAgent: null, requestId: null } });
    });
    const revokedAt = outcomes.length;
    await waitUntil(() => outcomes.length >= revokedAt + 3, "uses after the revocation");
    stop = true;
    await load;
    await committer.close();
    expect(outcomes.includes(false) && outcomes.includes(true)).toBe(true);

    const events = await getDb().auditEvent.findMany({ where: { chain: tenantId!, seq: { gt: 204 } }, orderBy: { seq: "asc" } });
    const at = events.findIndex((e) => e.action === "access.revoked");
    expect(events.slice(0, at).every((e) => e.outcome === "SUCCESS")).toBe(true);
    expect(events.slice(at + 1).every((e) => e.outcome === "DENIED" && (e.details as { code?: string }).code === "access_revoked")).toBe(true);
    expect(await verifyStoredChain(tenantId!)).toMatchObject({ intact: true });
  });

  it("commits a tenant's single events while another tenant floods the committer", async () => {
    const flooder = (await getDb().tenant.create({ data: { slug: "gc-flood", name: "flood" } })).id;
    const victim = (await getDb().tenant.create({ data: { slug: "gc-victim", name: "victim" } })).id;
    // A 1,000-item batch's event: about 64 KB of input, so the default share of a batch
    // (128 KiB per chain) holds two of them.
    const big = (n: number): HotAuditEvent => ({
      ...event(flooder, n),
      action: "key.batch_wrap",
      details: { items: 1000, dataLabels: ["bulk"], objectIds: Array.from({ length: 1000 }, (_, i) => `object-${String(i).padStart(6, "0")}`), failedItems: [] },
    });
    const committer = new AuditGroupCommitter(pools[0]!);
    let floodCommitted = 0;
    let appended = 0;
    let stop = false;
    const flood: Array<Promise<unknown>> = [];
    const floodOne = () => {
      const n = appended++;
      flood.push(committer.append(big(n)).then(() => {
        floodCommitted++;
        if (!stop) floodOne();
      }));
    };
    // Forty of the flooder's events are queued at all times.
    for (let i = 0; i < 40; i++) floodOne();
    const waited: number[] = [];
    for (let n = 0; n < 5; n++) {
      const before = floodCommitted;
      await committer.append(event(victim, 20_000 + n));
      // The flooder's events that committed while this one waited: those of the (at most two)
      // batches in flight and its share of this event's own batch, never the forty queued ahead.
      waited.push(floodCommitted - before);
    }
    stop = true;
    await Promise.all(flood);
    await committer.close();
    expect(Math.max(...waited)).toBeLessThanOrEqual(6);

    // Both chains intact and complete.
    expect(await verifyStoredChain(victim)).toMatchObject({ intact: true, events: 5 });
    expect(await verifyStoredChain(flooder)).toMatchObject({ intact: true, events: appended });
  });
});
