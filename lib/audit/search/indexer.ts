import "server-only";
import { getDb } from "@/lib/db";

// Fills audit_search (migration 20261204130000) just behind the chain, one chain at a time in
// `seq` order from the chain's watermark, the way the usage rollups count: each batch is one
// transaction that locks the watermark row (a second indexer skips the chain instead of
// waiting), copies the next events' search text and tagged values, and advances the watermark.
// `seq` is gap-free per chain and a chain's head row commits with its events, so everything at
// or below the head we read is committed: the watermark may jump to the head. A batch that dies
// half-way commits nothing; one that finds rows already there (ON CONFLICT) leaves them. After
// downtime the job simply starts from the watermark and catches up, nearest-to-done chain first.
//
// Retention prunes a chain's oldest events (lib/audit/trail/prune.ts, behind a signed anchor):
// their rows here are deleted up to the anchor. Readers join audit_search to audit_events, so a
// pruned event never shows even before that.

export type SearchIndexOptions = {
  /** Stop starting new batches after this long (a batch in progress finishes). */
  budgetMs: number;
  /** Events per transaction. */
  batchSize?: number;
  /** Stop starting new batches once aborted (shutdown). */
  signal?: AbortSignal;
};

export type ChainIndexing = {
  /** Events indexed by this call. */
  indexed: number;
  /** The watermark reached the chain head (as of the last batch). */
  caughtUp: boolean;
  /** Another indexer holds the chain right now. */
  busy: boolean;
};

const DEFAULT_BATCH = 2_000;

/** Indexes the chain's next batch of events, if no other indexer holds it. */
export async function indexChainBatch(chain: string, batchSize = DEFAULT_BATCH): Promise<ChainIndexing> {
  return getDb().$transaction(
    async (tx) => {
      await tx.$executeRaw`INSERT INTO audit_search_watermarks (chain) VALUES (${chain}) ON CONFLICT (chain) DO NOTHING`;
      const [mark] = await tx.$queryRaw<Array<{ indexed_seq: bigint }>>`
        SELECT indexed_seq FROM audit_search_watermarks WHERE chain = ${chain} FOR UPDATE SKIP LOCKED`;
      if (!mark) return { indexed: 0, caughtUp: false, busy: true };
      // Read after the lock: an indexer that held it before us has committed, so we start where it stopped.
      const [head] = await tx.$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${chain}`;
      const headSeq = head?.seq ?? 0n;
      if (headSeq <= mark.indexed_seq) return { indexed: 0, caughtUp: true, busy: false };

      const [batch] = await tx.$queryRaw<Array<{ indexed: number; last_seq: bigint | null; last_at: Date | null }>>`
        WITH ev AS MATERIALIZED (
          SELECT e.chain, e.seq, e.occurred_at,
                 custody_audit_search_text(e.actor_label, e.action, e.target_id, e.request_id, e.source_ip, e.details) AS text,
                 custody_audit_search_refs(e.actor_label, e.request_id, e.details) AS refs
            FROM audit_events e
           WHERE e.chain = ${chain} AND e.seq > ${mark.indexed_seq} AND e.seq <= ${headSeq}
           ORDER BY e.seq
           LIMIT ${batchSize}
        ),
        written AS (
          INSERT INTO audit_search (chain, seq, occurred_at, text, refs)
          SELECT chain, seq, occurred_at, text, refs FROM ev
          ON CONFLICT (chain, seq) DO NOTHING
        )
        SELECT count(*)::int AS indexed, max(seq) AS last_seq, max(occurred_at) AS last_at FROM ev`;
      const indexed = batch?.indexed ?? 0;
      // A short batch read everything up to the head (whatever is missing below it was pruned).
      const through = indexed < batchSize || !batch?.last_seq ? headSeq : batch.last_seq;
      const lastAt = batch?.last_at ? batch.last_at.toISOString() : null;
      await tx.$executeRaw`
        UPDATE audit_search_watermarks
           SET indexed_seq = greatest(indexed_seq, ${through}),
               indexed_through = coalesce(greatest(indexed_through, ${lastAt}::timestamptz), indexed_through),
               updated_at = now()
         WHERE chain = ${chain}`;
      return { indexed, caughtUp: through >= headSeq, busy: false };
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** Indexes a chain's new events, batch after batch, until caught up or out of time. */
export async function indexChain(chain: string, options: SearchIndexOptions): Promise<ChainIndexing> {
  const started = Date.now();
  let indexed = 0;
  for (;;) {
    const batch = await indexChainBatch(chain, options.batchSize);
    indexed += batch.indexed;
    if (batch.caughtUp || batch.busy || options.signal?.aborted || Date.now() - started >= options.budgetMs) return { ...batch, indexed };
  }
}

/** Chains with events not yet indexed, nearest to caught up first: one huge backlog must not starve the rest. */
async function chainsBehind(): Promise<string[]> {
  const rows = await getDb().$queryRaw<Array<{ chain: string }>>`
    SELECT c.chain FROM audit_chains c LEFT JOIN audit_search_watermarks w ON w.chain = c.chain
     WHERE c.seq > coalesce(w.indexed_seq, 0)
     ORDER BY c.seq - coalesce(w.indexed_seq, 0)`;
  return rows.map((r) => r.chain);
}

/** Deletes the search rows of events retention has pruned (at or below each chain's anchor). */
export async function dropPrunedSearchRows(): Promise<number> {
  return getDb().$executeRaw`
    DELETE FROM audit_search s USING audit_anchors a WHERE s.chain = a.chain AND s.seq <= a.seq`;
}

/** One pass over every chain that is behind, within the time budget: what the periodic job runs. */
export async function indexAll(options: SearchIndexOptions): Promise<{ indexed: number; caughtUp: boolean }> {
  const started = Date.now();
  let indexed = 0;
  let caughtUp = true;
  for (const chain of await chainsBehind()) {
    const left = options.budgetMs - (Date.now() - started);
    if (left <= 0 || options.signal?.aborted) return { indexed, caughtUp: false };
    const result = await indexChain(chain, { ...options, budgetMs: left });
    indexed += result.indexed;
    if (!result.caughtUp) caughtUp = false;
  }
  await dropPrunedSearchRows();
  if (indexed > 0) await mergePendingEntries();
  return { indexed, caughtUp };
}

/**
 * Merges the GIN indexes' pending lists into their trees (the migration explains why): in bulk,
 * once per pass, so searches never scan more than a pass's worth of pending entries.
 */
export async function mergePendingEntries(): Promise<void> {
  await getDb().$queryRaw`
    SELECT gin_clean_pending_list('audit_search_text_idx'::regclass), gin_clean_pending_list('audit_search_refs_idx'::regclass)`;
}
