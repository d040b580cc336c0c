import "server-only";
import { getDb } from "@/lib/db";
import { NO_REQUEST } from "@/lib/http/request-meta";
import { AUDIT_ACTIONS, VENDOR_CHAIN } from "../actions";
import { type Actor, appendAuditEvent } from "./append";

// Retention: the oldest events of a chain are deleted in batches. Each batch is one
// transaction that moves the chain's anchor (seq and hash of the last event it deletes)
// forward, deletes the events up to it (the append-only trigger lets exactly this through:
// the transaction-local custody.audit_prune setting, and only rows at or behind the anchor),
// and appends an `audit.pruned` event saying so, so the trail itself records every removal
// and verification starts from the anchor.
//
// Pruning never goes past the chain's newest signed checkpoint. So the anchor is always
// covered by a signature: the events from the anchor up to that checkpoint link the anchor's
// hash to a signed head, and a forged anchor, or a remainder rewritten to fit one, fails that
// checkpoint. This is enforced, not just followed here: the database refuses an anchor beyond
// the newest checkpoint or with a hash other than its event's (migration
// 20261129090000_audit_anchor_guard; hence the anchor moves before the events are deleted), and
// verification reports events behind an anchor no checkpoint covers as deleted. (A chain
// without a checkpoint is not pruned; the checkpoint job signs every chain whose head moved,
// so this waits at most one checkpoint interval.)

export const PRUNE_BATCH = 10_000;

export const RETENTION_ACTOR: Actor = { type: "system", id: null, label: "retention" };

export type PruneResult = {
  chain: string;
  /** Events deleted by this run. */
  pruned: number;
  /** The anchor after the run, if the chain has one. */
  anchor: { seq: bigint; hash: string } | null;
  /** Older events remain because the newest checkpoint is older than them (or there is none). */
  heldByCheckpoint: boolean;
  /** Another instance was pruning this chain; nothing was done. */
  busy: boolean;
};

/** Prunes one chain's events that occurred before `olderThan`. */
export async function pruneChain(
  chain: string,
  options: { olderThan: Date; batchSize?: number; actor?: Actor; signal?: AbortSignal },
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? PRUNE_BATCH;
  const result: PruneResult = { chain, pruned: 0, anchor: null, heldByCheckpoint: false, busy: false };
  for (;;) {
    const step = await getDb().$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<Array<{ ok: boolean }>>`
          SELECT pg_try_advisory_xact_lock(hashtextextended(${`custody.audit_prune:${chain}`}, 0)) AS ok`;
        if (!lock?.ok) return "busy" as const;
        const [anchor] = await tx.$queryRaw<Array<{ seq: bigint; hash: string }>>`SELECT seq, hash FROM audit_anchors WHERE chain = ${chain}`;
        result.anchor = anchor ?? null;
        const after = anchor?.seq ?? 0n;
        const [limit] = await tx.$queryRaw<Array<{ seq: bigint | null }>>`SELECT max(seq) AS seq FROM audit_checkpoints WHERE chain = ${chain}`;
        // A seq range, not LIMIT, so no plan reads more than one batch (see verify-chain.ts).
        const candidates = await tx.$queryRaw<Array<{ seq: bigint; hash: string; occurred_at: Date }>>`
          SELECT seq, hash, occurred_at FROM audit_events
           WHERE chain = ${chain} AND seq > ${after} AND seq <= ${after + BigInt(batchSize)} ORDER BY seq`;
        // Events are in time order along the chain; stop at the first one young enough to keep.
        let through: { seq: bigint; hash: string } | null = null;
        for (const c of candidates) {
          if (c.occurred_at >= options.olderThan) break;
          if (limit?.seq === null || limit === undefined || c.seq > limit.seq) {
            result.heldByCheckpoint = true;
            break;
          }
          through = c;
        }
        if (!through) return "done" as const;

        await tx.$executeRaw`
          INSERT INTO audit_anchors (chain, seq, hash, pruned_at) VALUES (${chain}, ${through.seq}, ${through.hash}, now())
          ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, pruned_at = EXCLUDED.pruned_at`;
        await tx.$queryRaw`SELECT set_config('custody.audit_prune', 'on', true)`;
        const count = await tx.$executeRaw`DELETE FROM audit_events WHERE chain = ${chain} AND seq > ${after} AND seq <= ${through.seq}`;
        await tx.$queryRaw`SELECT set_config('custody.audit_prune', 'off', true)`;
        await appendAuditEvent(tx, {
          tenantId: chain === VENDOR_CHAIN ? null : chain,
          actor: options.actor ?? RETENTION_ACTOR,
          action: AUDIT_ACTIONS.auditPruned,
          target: { type: "audit_trail", id: chain },
          outcome: "success",
          request: NO_REQUEST,
          details: {
            count,
            fromSeq: (after + 1n).toString(),
            throughSeq: through.seq.toString(),
            anchorHash: through.hash,
            olderThan: options.olderThan.toISOString(),
          },
        });
        result.pruned += count;
        result.anchor = through;
        return candidates.length === batchSize && through === candidates[candidates.length - 1] ? ("more" as const) : ("done" as const);
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
    if (step === "busy") return { ...result, busy: true };
    if (step === "done" || options.signal?.aborted) return result;
  }
}

/** Prunes every chain (or the given ones) to the retention period. */
export async function pruneExpired(options: {
  retentionDays: number;
  chains?: string[];
  now?: Date;
  batchSize?: number;
  actor?: Actor;
  signal?: AbortSignal;
}): Promise<PruneResult[]> {
  const olderThan = new Date((options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000);
  const chains = options.chains ?? (await getDb().auditChain.findMany({ select: { chain: true }, orderBy: { chain: "asc" } })).map((c) => c.chain);
  const results: PruneResult[] = [];
  for (const chain of chains) {
    if (options.signal?.aborted) break;
    results.push(await pruneChain(chain, { olderThan, batchSize: options.batchSize, actor: options.actor, signal: options.signal }));
  }
  return results;
}
