import "server-only";
import { Prisma } from "@/lib/db/generated/client";
import { getDb } from "@/lib/db";
import { NO_REQUEST } from "@/lib/http/request-meta";
import { AUDIT_ACTIONS, VENDOR_CHAIN } from "../actions";
import { type Actor, appendAuditEvent } from "./append";
import { RETENTION_ACTOR } from "./prune";

// audit_events is partitioned by month on occurred_at (migration 20261204135000). Two things
// keep it so: partitions made ahead of time (the audit-partitions job), and retention dropping
// whole months instead of deleting their rows one by one.
//
// A month is dropped only once every chain's events in it are behind that chain's retention
// anchor. For each chain with events there, the anchor moves forward to the chain's last event
// of the month exactly as a row prune moves it (lib/audit/trail/prune.ts): only as far as the
// newest signed checkpoint (the database refuses more), with an `audit.pruned` event in the
// chain saying through which event and to which hash, so verification starts after it. Then
// custody_audit_drop_partition re-checks every chain's anchor under an exclusive lock on the
// month and drops it. If any chain's events of the month reach past its newest checkpoint, the
// month stays (nothing is moved) until the checkpoint job has signed a newer head.

/** Months ahead of the current one that always have a partition. */
export const PARTITION_MONTHS_AHEAD = 3;

export type AuditPartition = { name: string; from: Date; to: Date };

export type PartitionDropResult = {
  partition: string;
  from: Date;
  to: Date;
  /** Whether the month is gone. */
  dropped: boolean;
  /** Events the month held, dropped with it (plus any of the same chains' older events elsewhere). */
  events: number;
  /** Chains whose events of the month reach past their newest checkpoint: the month stays. */
  heldBy: string[];
  /** Another instance was dropping partitions; nothing was done. */
  busy: boolean;
};

function monthStart(at: Date, plusMonths = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + plusMonths, 1));
}

/** Creates the partitions of the current month and the next `monthsAhead` ones that are missing; returns how many it made. */
export async function ensureAuditPartitions(options: { now?: Date; monthsAhead?: number } = {}): Promise<number> {
  const now = options.now ?? new Date();
  const [row] = await getDb().$queryRaw<Array<{ created: number }>>`
    SELECT custody_audit_ensure_partitions(${monthStart(now)}::timestamptz, ${monthStart(now, options.monthsAhead ?? PARTITION_MONTHS_AHEAD)}::timestamptz) AS created`;
  return row?.created ?? 0;
}

/** The monthly partitions of audit_events (not the default one), oldest first. */
export async function listAuditPartitions(): Promise<AuditPartition[]> {
  const rows = await getDb().$queryRaw<Array<{ name: string; bound: string }>>`
    SELECT c.relname::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_events'::regclass`;
  const partitions: AuditPartition[] = [];
  for (const row of rows) {
    const match = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(row.bound);
    if (match) partitions.push({ name: row.name, from: new Date(match[1]!), to: new Date(match[2]!) });
  }
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime());
}

const ident = (name: string) => Prisma.raw(`"${name.replace(/"/g, '""')}"`);

/** Moves every chain's anchor past its events in the partition and drops it, or says which chains hold it. */
export async function dropAuditPartition(partition: AuditPartition, options: { actor?: Actor; olderThan?: Date } = {}): Promise<PartitionDropResult> {
  const result: PartitionDropResult = { partition: partition.name, from: partition.from, to: partition.to, dropped: false, events: 0, heldBy: [], busy: false };
  const table = ident(partition.name);
  return getDb().$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<Array<{ ok: boolean }>>`SELECT pg_try_advisory_xact_lock(hashtextextended('custody.audit_partitions', 0)) AS ok`;
      if (!lock?.ok) return { ...result, busy: true };
      // What each chain has in the month, its anchor, and its newest checkpoint.
      const chains = await tx.$queryRaw<Array<{ chain: string; last: bigint; events: bigint; anchor: bigint | null; signed: bigint | null }>>`
        SELECT p.chain, p.last, p.events, a.seq AS anchor, (SELECT max(k.seq) FROM audit_checkpoints k WHERE k.chain = p.chain) AS signed
          FROM (SELECT chain, max(seq) AS last, count(*) AS events FROM ${table} GROUP BY chain) p
          LEFT JOIN audit_anchors a ON a.chain = p.chain
         ORDER BY p.chain`;
      result.heldBy = chains.filter((c) => (c.anchor ?? 0n) < c.last && (c.signed ?? 0n) < c.last).map((c) => c.chain);
      if (result.heldBy.length > 0) return result;
      // Per chain, the lock a row prune takes (and an integrity check shares), all before any
      // write: a chain being pruned or verified leaves the month for the next run.
      for (const c of chains) {
        if ((c.anchor ?? 0n) >= c.last) continue;
        const [chainLock] = await tx.$queryRaw<Array<{ ok: boolean }>>`
          SELECT pg_try_advisory_xact_lock(hashtextextended(${`custody.audit_prune:${c.chain}`}, 0)) AS ok`;
        if (!chainLock?.ok) return { ...result, busy: true };
      }

      for (const c of chains) {
        result.events += Number(c.events);
        const after = c.anchor ?? 0n;
        if (after >= c.last) continue;
        const [through] = await tx.$queryRaw<Array<{ hash: string }>>`SELECT hash FROM ${table} WHERE chain = ${c.chain} AND seq = ${c.last}`;
        if (!through) throw new Error(`audit partition ${partition.name}: event #${c.last} of ${c.chain} is gone`);
        await tx.$executeRaw`
          INSERT INTO audit_anchors (chain, seq, hash, pruned_at) VALUES (${c.chain}, ${c.last}, ${through.hash}, now())
          ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, pruned_at = EXCLUDED.pruned_at`;
        // Events of this chain up to the anchor in other months (a chain's time order follows its
        // seq, so normally none) go as a row prune would delete them.
        await tx.$queryRaw`SELECT set_config('custody.audit_prune', 'on', true)`;
        const elsewhere = await tx.$executeRaw`
          DELETE FROM audit_events WHERE chain = ${c.chain} AND seq > ${after} AND seq <= ${c.last}
             AND NOT (occurred_at >= ${partition.from}::timestamptz AND occurred_at < ${partition.to}::timestamptz)`;
        await tx.$queryRaw`SELECT set_config('custody.audit_prune', 'off', true)`;
        const [inMonth] = await tx.$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM ${table} WHERE chain = ${c.chain} AND seq > ${after}`;
        result.events += elsewhere;
        await appendAuditEvent(tx, {
          tenantId: c.chain === VENDOR_CHAIN ? null : c.chain,
          actor: options.actor ?? RETENTION_ACTOR,
          action: AUDIT_ACTIONS.auditPruned,
          target: { type: "audit_trail", id: c.chain },
          outcome: "success",
          request: NO_REQUEST,
          details: {
            count: Number(inMonth?.n ?? 0n) + elsewhere,
            fromSeq: (after + 1n).toString(),
            throughSeq: c.last.toString(),
            anchorHash: through.hash,
            olderThan: (options.olderThan ?? partition.to).toISOString(),
            partition: partition.name,
          },
        });
      }
      await tx.$queryRaw`SELECT custody_audit_drop_partition(${partition.name})::text AS dropped`;
      return { ...result, dropped: true };
    },
    { timeout: 300_000, maxWait: 10_000 },
  );
}

/**
 * Drops every month that ended before the retention period began (oldest first, stopping at the
 * first one a chain holds, so the trail never has a hole in the middle).
 */
export async function dropExpiredPartitions(options: { retentionDays: number; now?: Date; actor?: Actor; signal?: AbortSignal }): Promise<PartitionDropResult[]> {
  const olderThan = new Date((options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000);
  const results: PartitionDropResult[] = [];
  for (const partition of await listAuditPartitions()) {
    if (partition.to > olderThan || options.signal?.aborted) break;
    const result = await dropAuditPartition(partition, { actor: options.actor, olderThan });
    results.push(result);
    if (!result.dropped) break;
  }
  return results;
}
