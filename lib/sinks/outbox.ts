import "server-only";
import { getDb } from "@/lib/db";

// The outbox's writer (migration 20261129100000). Events reach a sink's outbox through a
// reader that can never skip one, the way the usage rollups count them: each sink has a
// watermark (`enqueued_seq`) in its tenant's chain. A batch is one transaction that locks the
// sink row (FOR UPDATE SKIP LOCKED: a second enqueuer skips the sink rather than waiting, and
// a disabled or deleted sink is not matched), reads the chain head, turns the events in
// (watermark, head] that pass the sink's filter into deliveries of up to `batchSize` events,
// and advances the watermark. `seq` is gap-free per chain and the head row commits with its
// events, so everything at or below the head we read is committed and visible; an event
// cannot commit later below it. So every event is enqueued exactly once per sink: by the one
// transaction that moved the watermark past it (a unique (sink, first_seq) backs this up).
//
// The only gap possible is at the front: retention prunes a chain's oldest events, and if it
// outran the enqueuer (a sink disabled for longer than the retention period), those events
// are gone. The watermark moves past them and the sink counts them as skipped, shown as a
// warning: they cannot be delivered.

/** Events per delivery (one batch sent to the receiver in one request). */
export const DEFAULT_BATCH_EVENTS = 100;
/** Seqs read per transaction, so one huge backlog is enqueued in bounded steps. */
const SCAN_SEQS = 5_000n;

export type SinkEnqueue = {
  /** Events put in the outbox by this call. */
  enqueued: number;
  /** Events retention deleted before they could be enqueued. */
  skipped: number;
  /** The watermark reached the chain head (as of the last batch). */
  caughtUp: boolean;
  /** Another enqueuer holds the sink, or it is disabled or gone. */
  busy: boolean;
};

export type EnqueueOptions = { budgetMs: number; batchSize?: number; signal?: AbortSignal };

/** Enqueues the sink's next window of events, if no other enqueuer holds it. */
export async function enqueueSinkBatch(sinkId: string, batchSize = DEFAULT_BATCH_EVENTS): Promise<SinkEnqueue> {
  return getDb().$transaction(
    async (tx) => {
      const [sink] = await tx.$queryRaw<Array<{ tenant_id: string; enqueued_seq: bigint }>>`
        SELECT tenant_id::text, enqueued_seq FROM log_sinks WHERE id = ${sinkId}::uuid AND enabled FOR UPDATE SKIP LOCKED`;
      if (!sink) return { enqueued: 0, skipped: 0, caughtUp: false, busy: true };
      // Read after the lock: an enqueuer that held it before us has committed, so we start where it stopped.
      const [head] = await tx.$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${sink.tenant_id}`;
      const headSeq = head?.seq ?? 0n;
      const after = sink.enqueued_seq;
      if (headSeq <= after) return { enqueued: 0, skipped: 0, caughtUp: true, busy: false };
      const upTo = headSeq - after > SCAN_SEQS ? after + SCAN_SEQS : headSeq;

      // One statement: the window's events, the filter, the batches (numbered in seq order) and their insert.
      const [result] = await tx.$queryRaw<Array<{ present: bigint; enqueued: bigint }>>`
        WITH sink AS (SELECT filter_actions, filter_outcomes FROM log_sinks WHERE id = ${sinkId}::uuid),
        ev AS MATERIALIZED (
          SELECT e.seq, e.action, e.outcome FROM audit_events e
           WHERE e.chain = ${sink.tenant_id} AND e.seq > ${after} AND e.seq <= ${upTo}
        ),
        matching AS (
          SELECT ev.seq, (row_number() OVER (ORDER BY ev.seq) - 1) / ${batchSize} AS batch
            FROM ev, sink
           WHERE (cardinality(sink.filter_actions) = 0 OR ev.action = ANY (sink.filter_actions))
             AND (cardinality(sink.filter_outcomes) = 0 OR ev.outcome = ANY (sink.filter_outcomes))
        ),
        inserted AS (
          INSERT INTO sink_deliveries (sink_id, first_seq, last_seq, seqs)
          SELECT ${sinkId}::uuid, min(seq), max(seq), array_agg(seq ORDER BY seq) FROM matching GROUP BY batch
          RETURNING cardinality(seqs) AS n
        )
        SELECT (SELECT count(*) FROM ev) AS present, (SELECT coalesce(sum(n), 0) FROM inserted)::bigint AS enqueued`;
      const present = result?.present ?? 0n;
      const skipped = Number(upTo - after - present);
      await tx.$executeRaw`
        UPDATE log_sinks
           SET enqueued_seq = ${upTo},
               skipped_events = skipped_events + ${skipped},
               skipped_at = CASE WHEN ${skipped} > 0 THEN now() ELSE skipped_at END
         WHERE id = ${sinkId}::uuid`;
      return { enqueued: Number(result?.enqueued ?? 0n), skipped, caughtUp: upTo >= headSeq, busy: false };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/** Enqueues a sink's new events, window after window, until caught up or out of time. */
export async function enqueueSink(sinkId: string, options: EnqueueOptions): Promise<SinkEnqueue> {
  const started = Date.now();
  const total: SinkEnqueue = { enqueued: 0, skipped: 0, caughtUp: false, busy: false };
  for (;;) {
    const step = await enqueueSinkBatch(sinkId, options.batchSize);
    total.enqueued += step.enqueued;
    total.skipped += step.skipped;
    if (step.caughtUp || step.busy || options.signal?.aborted || Date.now() - started >= options.budgetMs) {
      return { ...total, caughtUp: step.caughtUp, busy: step.busy };
    }
  }
}

/** Sinks enqueued together by one statement; and the events one statement reads at most. */
const SINKS_PER_STATEMENT = 500;
const SEQS_PER_STATEMENT = 50_000n;

/**
 * One transaction for many sinks: locks up to SINKS_PER_STATEMENT enabled sinks whose chain moved
 * past their watermark (nearest to caught up first, so a huge backlog cannot starve the rest;
 * SKIP LOCKED, so a second enqueuer takes others or none), then, in one statement with a
 * snapshot taken after the locks, enqueues each one's next window exactly as enqueueSinkBatch
 * does. `caughtUp`: every sink it looked at reached its chain head, and none was left out.
 */
export async function enqueueMany(batchSize = DEFAULT_BATCH_EVENTS): Promise<{ sinks: number; enqueued: number; skipped: number; caughtUp: boolean }> {
  return getDb().$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT s.id::text FROM log_sinks s JOIN audit_chains c ON c.chain = s.tenant_id::text
         WHERE s.enabled AND c.seq > s.enqueued_seq
         ORDER BY c.seq - s.enqueued_seq, s.id
         LIMIT ${SINKS_PER_STATEMENT + 1}
         FOR UPDATE OF s SKIP LOCKED`;
      if (locked.length === 0) return { sinks: 0, enqueued: 0, skipped: 0, caughtUp: true };
      const ids = locked.slice(0, SINKS_PER_STATEMENT).map((row) => row.id);
      const window = SEQS_PER_STATEMENT / BigInt(ids.length) > SCAN_SEQS ? SCAN_SEQS : SEQS_PER_STATEMENT / BigInt(ids.length) + 1n;
      // The watermarks and heads are read by this statement, after the locks: an enqueuer that
      // held a sink before us has committed, so each sink starts where the last one stopped.
      const [result] = await tx.$queryRaw<Array<{ enqueued: bigint; skipped: bigint; behind: bigint }>>`
        WITH sink AS MATERIALIZED (
          SELECT l.id, l.tenant_id::text AS chain, l.enqueued_seq AS after, c.seq AS head,
                 least(c.seq, l.enqueued_seq + ${window}) AS up_to, l.filter_actions, l.filter_outcomes
            FROM log_sinks l JOIN audit_chains c ON c.chain = l.tenant_id::text
           WHERE l.id = ANY (${ids}::uuid[]) AND c.seq > l.enqueued_seq
        ),
        ev AS MATERIALIZED (
          SELECT sink.id AS sink_id, e.seq, e.action, e.outcome
            FROM sink CROSS JOIN LATERAL (
              SELECT e.seq, e.action, e.outcome FROM audit_events e
               WHERE e.chain = sink.chain AND e.seq > sink.after AND e.seq <= sink.up_to) e
        ),
        matching AS (
          SELECT ev.sink_id, ev.seq, (row_number() OVER (PARTITION BY ev.sink_id ORDER BY ev.seq) - 1) / ${batchSize} AS batch
            FROM ev JOIN sink ON sink.id = ev.sink_id
           WHERE (cardinality(sink.filter_actions) = 0 OR ev.action = ANY (sink.filter_actions))
             AND (cardinality(sink.filter_outcomes) = 0 OR ev.outcome = ANY (sink.filter_outcomes))
        ),
        inserted AS (
          INSERT INTO sink_deliveries (sink_id, first_seq, last_seq, seqs)
          SELECT sink_id, min(seq), max(seq), array_agg(seq ORDER BY seq) FROM matching GROUP BY sink_id, batch
          RETURNING cardinality(seqs) AS n
        ),
        present AS (SELECT sink_id, count(*) AS n FROM ev GROUP BY sink_id),
        moved AS (
          UPDATE log_sinks l
             SET enqueued_seq = sink.up_to,
                 skipped_events = l.skipped_events + (sink.up_to - sink.after - coalesce(present.n, 0)),
                 skipped_at = CASE WHEN sink.up_to - sink.after - coalesce(present.n, 0) > 0 THEN now() ELSE l.skipped_at END
            FROM sink LEFT JOIN present ON present.sink_id = sink.id
           WHERE l.id = sink.id
          RETURNING sink.up_to - sink.after - coalesce(present.n, 0) AS skipped, sink.up_to < sink.head AS behind
        )
        SELECT (SELECT coalesce(sum(n), 0) FROM inserted)::bigint AS enqueued,
               (SELECT coalesce(sum(skipped), 0) FROM moved)::bigint AS skipped,
               (SELECT count(*) FILTER (WHERE behind) FROM moved)::bigint AS behind`;
      return {
        sinks: ids.length,
        enqueued: Number(result?.enqueued ?? 0n),
        skipped: Number(result?.skipped ?? 0n),
        caughtUp: (result?.behind ?? 0n) === 0n && locked.length <= SINKS_PER_STATEMENT,
      };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/**
 * Enqueues every sink that is behind, many sinks per statement (enqueueMany), until all are
 * caught up or the budget is spent: what the periodic job runs first.
 */
export async function enqueueAll(options: EnqueueOptions): Promise<{ enqueued: number; skipped: number; caughtUp: boolean }> {
  const started = Date.now();
  let enqueued = 0;
  let skipped = 0;
  for (;;) {
    const step = await enqueueMany(options.batchSize);
    enqueued += step.enqueued;
    skipped += step.skipped;
    if (step.caughtUp) return { enqueued, skipped, caughtUp: true };
    if (options.signal?.aborted || Date.now() - started >= options.budgetMs) return { enqueued, skipped, caughtUp: false };
  }
}
