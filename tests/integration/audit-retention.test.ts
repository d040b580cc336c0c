import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { appendAuditEvent } from "@/lib/audit";
import { signDueCheckpoints } from "@/lib/audit/integrity/checkpoints";
import { pruneChain, RETENTION_ACTOR } from "@/lib/audit/trail/prune";
import { forgetDeploymentSigningKey, parseSigningKeyPem } from "@/lib/audit/integrity/signing-key";
import { verifyChainIntegrity } from "@/lib/audit/integrity/verify-chain";
import { disconnectDb, getDb } from "@/lib/db";
import { NO_REQUEST } from "@/lib/http/request-meta";
import { appendEvents, newSigningKeyPem, newTenantWithTrail, rewriteHistory, tamper } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { runScript } from "../helpers/run-script";

// Retention: old events are pruned behind an anchor; what remains still verifies, tampering
// after a prune is still found, every prune is in the trail, and the append-only trigger lets
// nothing else delete.

const SIGNING_KEY = newSigningKeyPem();
const key = parseSigningKeyPem(SIGNING_KEY);
let database: TestDatabase;

const verify = (chain: string) => verifyChainIntegrity(chain, { trustedKey: key });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A trail of `old` events, a cut-off time, then `young` events, and a checkpoint at the head. */
async function agedTrail(slug: string, old: number, young: number): Promise<{ tenantId: string; cutoff: Date }> {
  const tenantId = await newTenantWithTrail(slug, old);
  await tick();
  const cutoff = new Date();
  await tick();
  await appendEvents(tenantId, young, old);
  await signDueCheckpoints();
  return { tenantId, cutoff };
}

async function query(sql: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.AUDIT_SIGNING_KEY = SIGNING_KEY;
  forgetDeploymentSigningKey();
});

afterAll(async () => {
  vi.useRealTimers();
  await disconnectDb();
  await database?.drop();
});

describe("pruning", () => {
  it("deletes the old events in batches behind an anchor, and what remains verifies", async () => {
    const { tenantId, cutoff } = await agedTrail("verifiable", 20, 10);
    const last = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, seq: 20n } });

    const result = await pruneChain(tenantId, { olderThan: cutoff, batchSize: 7 });
    expect(result).toMatchObject({ pruned: 20, anchor: { seq: 20n, hash: last.hash }, heldByCheckpoint: false });
    expect(await getDb().auditEvent.count({ where: { chain: tenantId, seq: { lte: 20n } } })).toBe(0);
    expect(await getDb().auditAnchor.findUnique({ where: { chain: tenantId } })).toMatchObject({ seq: 20n, hash: last.hash });

    const report = await verify(tenantId);
    // 10 young events and one audit.pruned event per batch (7 + 7 + 6).
    expect(report).toMatchObject({ intact: true, events: 13, total: 13, headSeq: 33n, anchor: { seq: 20n }, checkpoints: { checked: 1 } });
  });

  it("is itself audited in the chain it prunes, batch by batch", async () => {
    const { tenantId, cutoff } = await agedTrail("audited", 12, 2);
    await pruneChain(tenantId, { olderThan: cutoff, batchSize: 5 });
    const pruned = await getDb().auditEvent.findMany({ where: { chain: tenantId, action: "audit.pruned" }, orderBy: { seq: "asc" } });
    const anchors = await getDb().auditEvent.findMany({ where: { chain: tenantId, seq: { in: [5n, 10n, 12n] } } });
    expect(anchors).toHaveLength(0);
    expect(pruned.map((e) => [e.actorType, e.actorLabel, e.outcome])).toEqual(Array(3).fill(["SYSTEM", "retention", "SUCCESS"]));
    expect(pruned.map((e) => e.details)).toEqual([
      expect.objectContaining({ count: 5, fromSeq: "1", throughSeq: "5" }),
      expect.objectContaining({ count: 5, fromSeq: "6", throughSeq: "10" }),
      expect.objectContaining({ count: 2, fromSeq: "11", throughSeq: "12", anchorHash: (await getDb().auditAnchor.findUniqueOrThrow({ where: { chain: tenantId } })).hash }),
    ]);
  });

  it("never goes past the newest signed checkpoint, and not at all without one", async () => {
    const tenantId = await newTenantWithTrail("held", 6);
    const future = new Date(Date.now() + 60_000);
    expect(await pruneChain(tenantId, { olderThan: future })).toMatchObject({ pruned: 0, heldByCheckpoint: true, anchor: null });
    await signDueCheckpoints();
    await appendEvents(tenantId, 3, 6);
    expect(await pruneChain(tenantId, { olderThan: future })).toMatchObject({ pruned: 6, heldByCheckpoint: true, anchor: { seq: 6n } });
    expect(await verify(tenantId)).toMatchObject({ intact: true, anchor: { seq: 6n } });
  });

  it("lets two instances prune one chain at once without harm", async () => {
    const { tenantId, cutoff } = await agedTrail("concurrent", 30, 1);
    const results = await Promise.all([pruneChain(tenantId, { olderThan: cutoff, batchSize: 4 }), pruneChain(tenantId, { olderThan: cutoff, batchSize: 4 })]);
    const again = await pruneChain(tenantId, { olderThan: cutoff, batchSize: 4 });
    expect(results[0].pruned + results[1].pruned + again.pruned).toBe(30);
    expect(await verify(tenantId)).toMatchObject({ intact: true, anchor: { seq: 30n } });
  });
});

describe("tampering after a prune", () => {
  it("is still detected and located: an edit, a deletion, a forged anchor", async () => {
    const { tenantId, cutoff } = await agedTrail("tampered", 10, 10);
    await pruneChain(tenantId, { olderThan: cutoff });
    expect(await verify(tenantId)).toMatchObject({ intact: true, anchor: { seq: 10n } });

    await tamper(database.url, "UPDATE audit_events SET actor_label = 'x' WHERE chain = $1 AND seq = 15", [tenantId]);
    expect(await verify(tenantId)).toMatchObject({ intact: false, events: 4, break: { seq: 15n, kind: "edited" } });
    await tamper(database.url, "UPDATE audit_events SET actor_label = 'billing-app' WHERE chain = $1 AND seq = 15", [tenantId]);

    await tamper(database.url, "UPDATE audit_anchors SET hash = $1 WHERE chain = $2", ["a".repeat(64), tenantId]);
    const forged = await verify(tenantId);
    expect(forged).toMatchObject({ intact: false, events: 0, break: { seq: 11n, kind: "edited" } });
    if (!forged.intact) expect(forged.break.message).toContain("retention anchor");
  });

  it("catches the first events after the anchor deleted", async () => {
    const { tenantId, cutoff } = await agedTrail("gap", 5, 5);
    await pruneChain(tenantId, { olderThan: cutoff });
    await tamper(database.url, "DELETE FROM audit_events WHERE chain = $1 AND seq IN (6, 7)", [tenantId]);
    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, break: { seq: 6n, kind: "deleted" } });
    if (!report.intact) expect(report.break.message).toContain("Events #6 to #7 are missing");
  });

  it("catches a removal dressed up as a prune (anchor moved, no prune event)", async () => {
    const tenantId = await newTenantWithTrail("fake-prune", 8);
    const at4 = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, seq: 4n } });
    await tamper(database.url, "INSERT INTO audit_anchors (chain, seq, hash) VALUES ($1, 4, $2); DELETE FROM audit_events WHERE chain = $1 AND seq <= 4".replace(/\$1/g, `'${tenantId}'`).replace("$2", `'${at4.hash}'`));
    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, break: { seq: 4n, kind: "deleted" } });
    if (!report.intact) expect(report.break.message).toContain("no retention prune recorded in the trail accounts for");
  });

  it("catches the remainder rewritten to fit, by the checkpoint that covers the anchor", async () => {
    const { tenantId, cutoff } = await agedTrail("rewritten-after-prune", 6, 6);
    await pruneChain(tenantId, { olderThan: cutoff });
    await rewriteHistory(database.url, tenantId, 8n, "someone-else");
    expect(await verify(tenantId)).toMatchObject({ intact: false, break: { seq: 12n, kind: "rewritten" } });
  });
});

/** 30 events with a signed checkpoint at #20 (and none after it). */
async function trailCheckpointedAt20(slug: string): Promise<{ tenantId: string; hashOf: (seq: bigint) => Promise<string> }> {
  const tenantId = await newTenantWithTrail(slug, 20);
  await signDueCheckpoints();
  await appendEvents(tenantId, 10, 20);
  const hashOf = async (seq: bigint) => (await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, seq } })).hash;
  return { tenantId, hashOf };
}

/** The audit.pruned event a genuine prune through `throughSeq` would have appended. */
async function appendPrunedEvent(tenantId: string, throughSeq: bigint, anchorHash: string): Promise<void> {
  await getDb().$transaction((tx) =>
    appendAuditEvent(tx, {
      tenantId,
      actor: RETENTION_ACTOR,
      action: "audit.pruned",
      target: { type: "audit_trail", id: tenantId },
      outcome: "success",
      request: NO_REQUEST,
      details: { count: Number(throughSeq), fromSeq: "1", throughSeq: throughSeq.toString(), anchorHash, olderThan: new Date().toISOString() },
    }),
  );
}

describe("an anchor no signed checkpoint vouches for", () => {
  it("is refused by the database: beyond the newest checkpoint, or with a hash that is not the event's", async () => {
    const { tenantId, hashOf } = await trailCheckpointedAt20("forged-anchor-db");
    const at29 = await hashOf(29n);
    // The security review's reproduction, as the application's own login (triggers on).
    await expect(
      query(
        `BEGIN;
         INSERT INTO audit_anchors (chain, seq, hash) VALUES ('${tenantId}', 29, '${at29}');
         SELECT set_config('custody.audit_prune', 'on', true);
         DELETE FROM audit_events WHERE chain = '${tenantId}' AND seq <= 29;
         COMMIT;`,
      ),
    ).rejects.toThrow(/anchor at #29 is not covered by a signed checkpoint: the newest signed checkpoint of this chain is #20/);
    await expect(query("INSERT INTO audit_anchors (chain, seq, hash) VALUES ($1, 20, $2)", [tenantId, "a".repeat(64)])).rejects.toThrow(
      /does not match the stored hash of event #20/,
    );
    await expect(query("INSERT INTO audit_anchors (chain, seq, hash) VALUES ($1, 0, $2)", [tenantId, "a".repeat(64)])).rejects.toThrow(/audit_anchors/);

    // A genuine anchor (at the checkpoint, with the event's hash) is accepted, but may not then
    // move past the checkpoint or take another hash.
    await query("INSERT INTO audit_anchors (chain, seq, hash) VALUES ($1, 10, $2)", [tenantId, await hashOf(10n)]);
    await expect(query("UPDATE audit_anchors SET seq = 29, hash = $2 WHERE chain = $1", [tenantId, at29])).rejects.toThrow(/newest signed checkpoint of this chain is #20/);
    await expect(query("UPDATE audit_anchors SET seq = 20, hash = $2 WHERE chain = $1", [tenantId, at29])).rejects.toThrow(/does not match/);
    expect(await getDb().auditEvent.count({ where: { chain: tenantId } })).toBe(30);
    expect(await getDb().auditAnchor.findUnique({ where: { chain: tenantId } })).toMatchObject({ seq: 10n });
  });

  it("is reported by the verifier as a deletion when the triggers were bypassed", async () => {
    const { tenantId, hashOf } = await trailCheckpointedAt20("forged-anchor-verify");
    const at29 = await hashOf(29n);
    // Someone who can switch the triggers off (a superuser) does the same, and adds the prune event.
    await tamper(database.url, `INSERT INTO audit_anchors (chain, seq, hash) VALUES ($1, 29, $2); `.replace("$1", `'${tenantId}'`).replace("$2", `'${at29}'`) + `DELETE FROM audit_events WHERE chain = '${tenantId}' AND seq <= 29`);
    await appendPrunedEvent(tenantId, 29n, at29);

    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, anchor: { seq: 29n }, checkpoints: { beforeAnchor: 1 }, break: { seq: 29n, kind: "deleted" } });
    if (!report.intact) expect(report.break.message).toContain("Events up to #29 were removed behind a retention anchor that no signed checkpoint vouches for");
    // The same without a key to check signatures with: a checkpoint must still cover the anchor.
    expect(await verifyChainIntegrity(tenantId)).toMatchObject({ intact: false, break: { seq: 29n, kind: "deleted" } });
  });

  it("is caught when only a checkpoint forged beyond the anchor would vouch for it", async () => {
    const { tenantId, hashOf } = await trailCheckpointedAt20("forged-anchor-checkpoint");
    const at29 = await hashOf(29n);
    await tamper(
      database.url,
      `INSERT INTO audit_anchors (chain, seq, hash) VALUES ('${tenantId}', 29, '${at29}'); DELETE FROM audit_events WHERE chain = '${tenantId}' AND seq <= 29;
       INSERT INTO audit_checkpoints (chain, seq, head_hash, signed_at, key_id, signature) VALUES ('${tenantId}', 29, '${at29}', now(), '${key.keyId}', '\\x${"00".repeat(64)}')`,
    );
    await appendPrunedEvent(tenantId, 29n, at29);
    expect(await verify(tenantId)).toMatchObject({ intact: false, break: { seq: 29n, kind: "rewritten" } });
  });

  it("is accepted when a checkpoint sits exactly at the anchor, which is compared with the anchor's hash", async () => {
    const { tenantId, cutoff } = await agedTrail("checkpoint-at-anchor", 6, 0);
    expect(await pruneChain(tenantId, { olderThan: cutoff })).toMatchObject({ pruned: 6, anchor: { seq: 6n } });
    expect(await verify(tenantId)).toMatchObject({ intact: true, events: 1, checkpoints: { checked: 1, beforeAnchor: 0 } });

    await tamper(database.url, "UPDATE audit_anchors SET hash = $1 WHERE chain = $2", ["b".repeat(64), tenantId]);
    const forged = await verify(tenantId);
    expect(forged).toMatchObject({ intact: false, break: { seq: 6n, kind: "rewritten" } });
  });
});

describe("the append-only trigger", () => {
  it("still refuses an ordinary DELETE, UPDATE and TRUNCATE, and deletes ahead of the anchor even when pruning", async () => {
    const { tenantId, cutoff } = await agedTrail("trigger", 4, 4);
    await expect(query("DELETE FROM audit_events WHERE chain = $1 AND seq = 1", [tenantId])).rejects.toThrow(/append-only: DELETE refused/);
    await pruneChain(tenantId, { olderThan: cutoff });
    await expect(query("DELETE FROM audit_events WHERE chain = $1 AND seq = 5", [tenantId])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(
      query("BEGIN; SELECT set_config('custody.audit_prune', 'on', true); DELETE FROM audit_events WHERE chain = '" + tenantId + "' AND seq = 5; COMMIT;"),
    ).rejects.toThrow(/append-only: DELETE refused/);
    await expect(query("UPDATE audit_events SET actor_label = 'x' WHERE chain = $1 AND seq = 5", [tenantId])).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(query("TRUNCATE audit_events")).rejects.toThrow(/append-only: TRUNCATE refused/);
    // Nor can the anchor be wound back or removed.
    await expect(query("UPDATE audit_anchors SET seq = 1 WHERE chain = $1", [tenantId])).rejects.toThrow(/only move forward/);
    await expect(query("DELETE FROM audit_anchors WHERE chain = $1", [tenantId])).rejects.toThrow(/only move forward/);
    expect(await getDb().auditEvent.count({ where: { chain: tenantId } })).toBe(5);
  });
});

describe("npm run audit:prune", () => {
  it("signs the due checkpoints, prunes events older than the period, and the trail still verifies", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(Date.now() - 40 * 86_400_000));
    const tenantId = await newTenantWithTrail("cli-prune", 5);
    vi.useRealTimers();
    await appendEvents(tenantId, 2, 5);
    const env = { DATABASE_URL: database.url, AUDIT_SIGNING_KEY: SIGNING_KEY };

    const refused = await runScript("audit-prune.ts", ["--tenant", "cli-prune"], { ...env, AUDIT_RETENTION_DAYS: "" });
    expect(refused.code).toBe(2);
    expect(refused.out).toContain("no retention period: set AUDIT_RETENTION_DAYS or pass --days");
    expect((await runScript("audit-prune.ts", ["--days", "0"], env)).out).toContain("must be a whole number of days from 1 to 36500");

    const result = await runScript("audit-prune.ts", ["--tenant", "cli-prune", "--days", "30"], env);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`OK: tenant cli-prune (${tenantId}): pruned 5 events older than 30 days`);
    const pruned = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "audit.pruned" } });
    expect(pruned).toMatchObject({ actorLabel: "npm run audit:prune" });

    const verified = await runScript("audit-verify.ts", ["--tenant", "cli-prune"], env);
    expect(verified.code).toBe(0);
    expect(verified.out).toContain("3 events intact");
    expect(verified.out).toContain("events up to #5 were pruned");
  });
});
