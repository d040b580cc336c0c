import "server-only";
import { getDb, Prisma } from "@/lib/db";
import { AUDIT_ACTIONS } from "../catalogue";
import { BATCH_ACTIONS, KEY_SERVICE_ACTIONS } from "./key-actions";

// Rolls audit events up into the usage tables (migration 20261129070000), one chain at a time
// in `seq` order from the chain's watermark. Each batch is one transaction that locks the
// watermark row, counts the next events, upserts the counts and advances the watermark; so
// two runners never count an event twice (the second skips the locked chain), and a runner
// that dies mid-batch counts nothing. `seq` is gap-free per chain and a chain's head row
// commits with its events, so "every event with seq <= the head we read" is exactly what is
// committed: the watermark may jump to the head. Pruned events (retention deletes a chain's
// oldest) simply are not there to count; the watermark never moves back.

export type RollUpOptions = {
  /** Stop starting new batches after this long (a batch in progress finishes). */
  budgetMs: number;
  /** Events per transaction. */
  batchSize?: number;
  /** Stop starting new batches once aborted (shutdown). */
  signal?: AbortSignal;
};

export type ChainRollUp = {
  /** Events counted by this call. */
  counted: number;
  /** The chain's rollup reached its head (as of the last batch). */
  caughtUp: boolean;
  /** Another runner holds the chain right now; it will do the counting. */
  busy: boolean;
};

const DEFAULT_BATCH = 50_000;

// Bounds that keep one odd event from failing every later batch (a key longer than a btree
// entry may hold, an absurd item count): labels and names are cut, counts clamped.
const MAX_LABEL = 200;
const MAX_ITEMS = 1_000_000_000;

/** Items of a batch event that succeeded: its item count less its failed items. */
const SUCCEEDED_ITEMS = Prisma.sql`greatest(items - CASE WHEN jsonb_typeof(details -> 'failedItems') = 'array' THEN jsonb_array_length(details -> 'failedItems') ELSE 0 END, 0)`;

/**
 * Data keys per tenant key and use (audit_usage_key_uses): wrap and unwrap count a single call's
 * key once and a batch's succeeded items; a batch-unwrap names its keys in `tenantKeyIds` with
 * per-key counts in `tenantKeyItems` (a batch from before those counts: its items under a single
 * key, else one per key); a rekey moves one EDEK from `fromTenantKeyId` to `tenantKeyId`, a
 * batch-rekey `fromTenantKeyItems[i]` EDEKs from each `fromTenantKeyIds[i]` onto `tenantKeyId`.
 */
function keyUses(): Prisma.Sql {
  const a = AUDIT_ACTIONS;
  const perKey = (idsField: "tenantKeyIds" | "fromTenantKeyIds", countsField: "tenantKeyItems" | "fromTenantKeyItems") => {
    const ids = Prisma.raw(`'${idsField}'`);
    const counts = Prisma.raw(`'${countsField}'`);
    return Prisma.sql`
      SELECT ev.chain, ev.occurred_at, ev.action, k.id AS key_id,
             CASE WHEN jsonb_typeof(ev.details -> ${counts}) = 'array' AND jsonb_typeof(ev.details -> ${counts} -> (k.n::int - 1)) = 'number'
                  THEN least(greatest((ev.details -> ${counts} ->> (k.n::int - 1))::numeric, 0), ${MAX_ITEMS})::bigint
                  WHEN jsonb_array_length(ev.details -> ${ids}) = 1 THEN ${SUCCEEDED_ITEMS}
                  ELSE 1 END AS n
        FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(
               CASE WHEN jsonb_typeof(ev.details -> ${ids}) = 'array' THEN ev.details -> ${ids} ELSE '[]'::jsonb END) WITH ORDINALITY AS k(id, n)
       WHERE ev.outcome = 'success'`;
  };
  return Prisma.sql`
    key_uses AS (
      INSERT INTO audit_usage_key_uses AS t (chain, tenant_key_id, use, items, last_at)
      SELECT chain, left(key_id, ${MAX_LABEL}), use, sum(n), max(occurred_at) FROM (
          SELECT chain, occurred_at, details ->> 'tenantKeyId' AS key_id,
                 CASE WHEN action IN (${a.keyWrap}, ${a.keyBatchWrap}) THEN 'wrap' WHEN action = ${a.keyUnwrap} THEN 'unwrap' ELSE 'rekey_to' END AS use,
                 CASE WHEN action IN (${a.keyBatchWrap}, ${a.keyBatchRekey}) THEN ${SUCCEEDED_ITEMS} ELSE 1 END AS n
            FROM ev
           WHERE outcome = 'success' AND action IN (${a.keyWrap}, ${a.keyBatchWrap}, ${a.keyUnwrap}, ${a.keyRekey}, ${a.keyBatchRekey})
             AND jsonb_typeof(details -> 'tenantKeyId') = 'string'
          UNION ALL
          SELECT chain, occurred_at, details ->> 'fromTenantKeyId', 'rekey_from', 1
            FROM ev WHERE outcome = 'success' AND action = ${a.keyRekey} AND jsonb_typeof(details -> 'fromTenantKeyId') = 'string'
          UNION ALL
          SELECT chain, occurred_at, key_id, 'unwrap', n FROM (${perKey("tenantKeyIds", "tenantKeyItems")}) b WHERE action = ${a.keyBatchUnwrap}
          UNION ALL
          SELECT chain, occurred_at, key_id, 'rekey_from', n FROM (${perKey("fromTenantKeyIds", "fromTenantKeyItems")}) b WHERE action = ${a.keyBatchRekey}
      ) u
      WHERE key_id IS NOT NULL AND n > 0
      GROUP BY 1, 2, 3
      ON CONFLICT (chain, tenant_key_id, use)
      DO UPDATE SET items = t.items + EXCLUDED.items, last_at = greatest(t.last_at, EXCLUDED.last_at)
    )`;
}

function countBatch(chain: string, after: bigint, head: bigint, limit: number): Prisma.Sql {
  const keyActions = Prisma.join([...KEY_SERVICE_ACTIONS]);
  const batchActions = Prisma.join([...BATCH_ACTIONS]);
  return Prisma.sql`
    WITH ev AS MATERIALIZED (
      SELECT e.chain, e.seq, e.occurred_at, e.action, e.outcome, e.actor_type, e.actor_id, e.actor_label, e.details,
             date_trunc('hour', e.occurred_at, 'UTC') AS hour,
             (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
             CASE WHEN e.action IN (${batchActions}) AND jsonb_typeof(e.details -> 'items') = 'number'
                  THEN least(greatest((e.details ->> 'items')::numeric, 0), ${MAX_ITEMS})::bigint
                  ELSE 1 END AS items
        FROM audit_events e
       WHERE e.chain = ${chain} AND e.seq > ${after} AND e.seq <= ${head}
       ORDER BY e.seq
       LIMIT ${limit}
    ),
    hourly AS (
      INSERT INTO audit_usage_hourly AS t (chain, hour, action, outcome, events, items)
      SELECT chain, hour, left(action, ${MAX_LABEL}), outcome, count(*), sum(items) FROM ev GROUP BY 1, 2, 3, 4
      ON CONFLICT (chain, hour, action, outcome)
      DO UPDATE SET events = t.events + EXCLUDED.events, items = t.items + EXCLUDED.items
    ),
    daily AS (
      INSERT INTO audit_usage_daily AS t (chain, day, action, outcome, events, items)
      SELECT chain, day, left(action, ${MAX_LABEL}), outcome, count(*), sum(items) FROM ev GROUP BY 1, 2, 3, 4
      ON CONFLICT (chain, day, action, outcome)
      DO UPDATE SET events = t.events + EXCLUDED.events, items = t.items + EXCLUDED.items
    ),
    labels AS (
      INSERT INTO audit_usage_labels_daily AS t (chain, day, data_label, events, items, denied)
      SELECT chain, day, label, sum(events), sum(items), sum(denied) FROM (
          SELECT chain, day, left(details ->> 'dataLabel', ${MAX_LABEL}) AS label, count(*) AS events, sum(items) AS items,
                 count(*) FILTER (WHERE outcome = 'denied') AS denied
            FROM ev WHERE jsonb_typeof(details -> 'dataLabel') = 'string'
           GROUP BY 1, 2, 3
          UNION ALL
          -- A batch names its labels as a set; grouped first, so each distinct set is expanded once.
          SELECT b.chain, b.day, l.label, sum(b.events), sum(CASE WHEN b.n = 1 THEN b.items ELSE 0 END), sum(b.denied)
            FROM (SELECT chain, day, details -> 'dataLabels' AS labels, jsonb_array_length(details -> 'dataLabels') AS n,
                         count(*) AS events, sum(items) AS items, count(*) FILTER (WHERE outcome = 'denied') AS denied
                    FROM ev WHERE jsonb_typeof(details -> 'dataLabels') = 'array'
                   GROUP BY 1, 2, 3, 4) b
           CROSS JOIN LATERAL (
                SELECT DISTINCT left(x, ${MAX_LABEL}) AS label FROM jsonb_array_elements_text(b.labels) AS x WHERE x IS NOT NULL
           ) l
           GROUP BY 1, 2, 3
      ) s GROUP BY 1, 2, 3
      ON CONFLICT (chain, day, data_label)
      DO UPDATE SET events = t.events + EXCLUDED.events, items = t.items + EXCLUDED.items, denied = t.denied + EXCLUDED.denied
    ),
    actors AS (
      INSERT INTO audit_usage_actors_daily AS t (chain, day, actor_type, actor_id, actor_label, events, items, denied)
      SELECT chain, day, actor_type, left(coalesce(actor_id, ''), ${MAX_LABEL}), left(coalesce(actor_label, ''), ${MAX_LABEL}),
             count(*), sum(items), count(*) FILTER (WHERE outcome = 'denied')
        FROM ev GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (chain, day, actor_type, actor_id, actor_label)
      DO UPDATE SET events = t.events + EXCLUDED.events, items = t.items + EXCLUDED.items, denied = t.denied + EXCLUDED.denied
    ),
    keys AS (
      INSERT INTO audit_usage_keys AS t (chain, tenant_key_id, events, last_used_at)
      SELECT g.chain, k.id, sum(g.events), max(g.last_at)
        FROM (SELECT chain, details -> 'tenantKeyId' AS one, details -> 'fromTenantKeyId' AS source, details -> 'tenantKeyIds' AS many, details -> 'fromTenantKeyIds' AS sources,
                     count(*) AS events, max(occurred_at) AS last_at
                FROM ev WHERE outcome = 'success' AND action IN (${keyActions})
               GROUP BY 1, 2, 3, 4, 5) g
       CROSS JOIN LATERAL (
            SELECT DISTINCT left(v, ${MAX_LABEL}) AS id FROM (
                SELECT g.one #>> '{}' AS v WHERE jsonb_typeof(g.one) = 'string'
                UNION ALL SELECT g.source #>> '{}' WHERE jsonb_typeof(g.source) = 'string'
                UNION ALL SELECT jsonb_array_elements_text(g.sources) WHERE jsonb_typeof(g.sources) = 'array'
                UNION ALL SELECT jsonb_array_elements_text(g.many) WHERE jsonb_typeof(g.many) = 'array'
            ) ids WHERE v IS NOT NULL
       ) k
       GROUP BY 1, 2
      ON CONFLICT (chain, tenant_key_id)
      DO UPDATE SET events = t.events + EXCLUDED.events, last_used_at = greatest(t.last_used_at, EXCLUDED.last_used_at)
    ),
    ${keyUses()}
    SELECT count(*)::int AS counted, max(seq) AS last_seq, max(occurred_at) AS last_at FROM ev`;
}

/** Counts the chain's next batch of events, if no other runner is counting it. */
export async function rollUpChainBatch(chain: string, batchSize = DEFAULT_BATCH): Promise<ChainRollUp> {
  return getDb().$transaction(
    async (tx) => {
      await tx.$executeRaw`INSERT INTO audit_usage_watermarks (chain) VALUES (${chain}) ON CONFLICT (chain) DO NOTHING`;
      const [mark] = await tx.$queryRaw<Array<{ rolled_seq: bigint }>>`
        SELECT rolled_seq FROM audit_usage_watermarks WHERE chain = ${chain} FOR UPDATE SKIP LOCKED`;
      if (!mark) return { counted: 0, caughtUp: false, busy: true };
      // Read after the lock: a runner that held it before us has committed, so we start where it stopped.
      const [head] = await tx.$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${chain}`;
      const headSeq = head?.seq ?? 0n;
      if (headSeq <= mark.rolled_seq) return { counted: 0, caughtUp: true, busy: false };

      const [batch] = await tx.$queryRaw<Array<{ counted: number; last_seq: bigint | null; last_at: Date | null }>>(
        countBatch(chain, mark.rolled_seq, headSeq, batchSize),
      );
      const counted = batch?.counted ?? 0;
      // A short batch read everything up to the head (whatever is missing below it was pruned).
      const through = counted < batchSize || !batch?.last_seq ? headSeq : batch.last_seq;
      const lastAt = batch?.last_at ? batch.last_at.toISOString() : null;
      await tx.$executeRaw`
        UPDATE audit_usage_watermarks
           SET rolled_seq = greatest(rolled_seq, ${through}),
               rolled_through = coalesce(greatest(rolled_through, ${lastAt}::timestamptz), rolled_through),
               updated_at = now()
         WHERE chain = ${chain}`;
      return { counted, caughtUp: through >= headSeq, busy: false };
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** Whether the chain has events not counted yet: one read, no lock, for the common caught-up case. */
async function isBehind(chain: string): Promise<boolean> {
  const [row] = await getDb().$queryRaw<Array<{ behind: boolean }>>`
    SELECT c.seq > coalesce(w.rolled_seq, 0) AS behind
      FROM audit_chains c LEFT JOIN audit_usage_watermarks w ON w.chain = c.chain
     WHERE c.chain = ${chain}`;
  return row?.behind ?? false;
}

/** Counts a chain's new events, batch after batch, until caught up or out of time. */
export async function rollUpChain(chain: string, options: RollUpOptions): Promise<ChainRollUp> {
  if (!(await isBehind(chain))) return { counted: 0, caughtUp: true, busy: false };
  const started = Date.now();
  let counted = 0;
  for (;;) {
    const batch = await rollUpChainBatch(chain, options.batchSize);
    counted += batch.counted;
    if (batch.caughtUp || batch.busy || options.signal?.aborted || Date.now() - started >= options.budgetMs) return { ...batch, counted };
  }
}

/** Chains with events not yet counted, nearest to caught up first: one huge backlog must not starve the rest. */
async function chainsBehind(): Promise<string[]> {
  const rows = await getDb().$queryRaw<Array<{ chain: string }>>`
    SELECT c.chain FROM audit_chains c LEFT JOIN audit_usage_watermarks w ON w.chain = c.chain
     WHERE c.seq > coalesce(w.rolled_seq, 0)
     ORDER BY c.seq - coalesce(w.rolled_seq, 0)`;
  return rows.map((r) => r.chain);
}

/** One pass over every chain that is behind, within the time budget: what the periodic job runs. */
export async function rollUpAll(options: RollUpOptions): Promise<{ counted: number; caughtUp: boolean }> {
  const started = Date.now();
  let counted = 0;
  let caughtUp = true;
  for (const chain of await chainsBehind()) {
    const left = options.budgetMs - (Date.now() - started);
    if (left <= 0 || options.signal?.aborted) return { counted, caughtUp: false };
    const result = await rollUpChain(chain, { ...options, budgetMs: left });
    counted += result.counted;
    if (!result.caughtUp) caughtUp = false;
  }
  return { counted, caughtUp };
}
