// `npm run bench:audit-insert -- [--prefill N] [--events N] [--batch N] [--smoke]`: what each
// index on audit_events costs the hot path. In a throw-away database (made on the server of
// TEST_DATABASE_URL, dropped at the end) with every migration applied and a trail of --prefill
// events already there, appends --events key-service events through the real batch append
// (custody_append_audit_batch, --batch events per call, as the group commit sends them) once
// with the indexes as they are, once without each index in turn, and once with only the hot set
// (what stays on audit_events since migration 20261204130000 moved search to audit_search: the
// moved indexes are re-created here first, so "before" is measured on the same database). The
// variants take turns, run after run, so a change in the machine's load falls on all of them
// alike. Each variant runs inside one
// transaction that drops its indexes first and rolls back at the end, so every variant starts
// from the same table; commit and WAL flush are therefore not in the figures (they are the same
// for every variant but grow with the WAL the indexes write, so the differences are if anything
// understated). Reports the backend's CPU per event (utime+stime from /proc, µs/event) and
// events/s; and what the audit-search job then spends per event to index them (background work,
// off the request path). Measures; does not judge.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { eventFieldsOf, type AuditInput } from "@/lib/audit/trail/append";
import { eventTail } from "@/lib/audit/trail/chain";
import { byColumn, TAIL_FIELDS } from "@/lib/audit/trail/event-fields";
import { processCpuMicros } from "../tests/helpers/cpu";
import { createTestDatabase } from "../tests/helpers/db";

const smoke = process.argv.includes("--smoke");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number`);
  return n;
}

function fail(message: string): never {
  console.error(`bench:audit-insert: ${message}`);
  process.exit(2);
}

const PREFILL = arg("prefill", smoke ? 2_000 : 300_000);
const EVENTS = arg("events", smoke ? 400 : 20_000);
const BATCH = arg("batch", 100);
const RUNS = arg("runs", smoke ? 1 : 3);

const LABELS = ["invoices", "payroll", "patient-notes", "contracts", "messages", "attachments", "exports", "profiles"];
const ACTORS = ["billing-app", "search-indexer", "reports", "mobile-api", "exporter", "support-tools"];

/** A key-service unwrap as the service records it, varied like real traffic. */
function unwrapEvent(tenantId: string, keyId: string, n: number): AuditInput {
  return {
    tenantId,
    actor: { type: "service", id: randomUUID(), label: ACTORS[n % ACTORS.length]! },
    action: n % 4 === 0 ? "key.wrap" : "key.unwrap",
    target: { type: "tenant_key", id: keyId },
    outcome: "success",
    request: { sourceIp: `10.1.${(n >> 8) % 256}.${n % 256}`, userAgent: "custody-sdk/0.1", requestId: randomUUID() },
    details: {
      dataLabel: LABELS[(n * 13) % LABELS.length]!,
      objectId: `obj-${randomUUID().slice(0, 13)}`,
      reason: "render",
      onBehalfOf: `user-${n % 5_003}@customer.example`,
      tenantKeyId: keyId,
    },
  };
}

function batchJson(events: AuditInput[]): string {
  const rows = events.map((event, ord) => {
    const fields = eventFieldsOf(event);
    return { ord, ...byColumn(TAIL_FIELDS, fields), details_refused: null, tail: eventTail(fields), tail_refused: null, requires_access: false, credential_id: null };
  });
  return JSON.stringify(rows);
}

/** Fills the trail with `count` events of another chain and of the measured one, as set-based SQL (hashes are placeholders: nothing verifies them here). */
async function prefill(client: pg.Client, tenantId: string, keyId: string, count: number): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (chain, seq, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id,
                               outcome, source_ip, user_agent, request_id, details, prev_hash, hash)
     SELECT $1::text, n, now() - make_interval(secs => ($2::bigint - n) / 10.0), $1::uuid, 'service', gen_random_uuid()::text,
            (ARRAY['billing-app','search-indexer','reports','mobile-api','exporter','support-tools'])[1 + n % 6],
            CASE WHEN n % 4 = 0 THEN 'key.wrap' ELSE 'key.unwrap' END, 'tenant_key', $3::text,
            CASE WHEN n % 97 = 0 THEN 'denied' ELSE 'success' END::audit_outcome,
            '10.0.' || (n / 256) % 256 || '.' || n % 256, 'custody-sdk/0.1', gen_random_uuid()::text,
            jsonb_build_object('dataLabel', (ARRAY['invoices','payroll','patient-notes','contracts','messages','attachments','exports','profiles'])[1 + n % 8],
                               'objectId', 'obj-' || left(md5(n::text), 13), 'reason', 'render',
                               'onBehalfOf', 'user-' || n % 5003 || '@customer.example', 'tenantKeyId', $3::text),
            repeat('0', 64), repeat('0', 64)
       FROM generate_series(1, $2::bigint) AS n`,
    [tenantId, count, keyId],
  );
  await client.query("INSERT INTO audit_chains (chain, seq, head_hash) VALUES ($1, $2, repeat('0', 64))", [tenantId, count]);
  await client.query("VACUUM ANALYZE audit_events");
}

// The indexes migration 20261204130000 moved off audit_events, as 20261129050000 made them.
const MOVED: Array<[string, string]> = [
  ["audit_events_search_idx", `USING GIN ("custody_audit_search_text"("actor_label", "action", "target_id", "request_id", "source_ip", "details") gin_trgm_ops)`],
  ["audit_events_details_idx", `USING GIN ("details" jsonb_path_ops)`],
  ["audit_events_chain_data_label_idx", `("chain", ("details" ->> 'dataLabel'), "occurred_at" DESC, "seq" DESC)`],
  ["audit_events_chain_actor_label_occurred_at_seq_idx", `("chain", "actor_label", "occurred_at" DESC, "seq" DESC)`],
  ["audit_events_request_id_idx", `("request_id")`],
];

type Variant = { name: string; drop: string[]; cpu: number[]; rates: number[] };
type Result = { name: string; cpuPerEvent: number; perSecond: number };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Appends the batches in a transaction without the `drop` indexes, rolled back: CPU µs/event and events/s. */
async function measure(client: pg.Client, pid: number, drop: string[], batches: string[], after?: (cpu: number[]) => Promise<void>) {
  await client.query("BEGIN");
  try {
    for (const index of drop) await client.query(`DROP INDEX ${pg.escapeIdentifier(index)}`);
    const cpuBefore = processCpuMicros(pid) ?? 0;
    const started = process.hrtime.bigint();
    for (const batch of batches) await client.query("SELECT count(*) FROM custody_append_audit_batch($1::json, '{}'::uuid[])", [batch]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const events = batches.length === 0 ? 1 : EVENTS;
    const result = { cpu: ((processCpuMicros(pid) ?? 0) - cpuBefore) / events, rate: events / seconds };
    if (after) await after([]);
    return result;
  } finally {
    await client.query("ROLLBACK");
  }
}

/** The audit-search job's work for the events just appended (same SQL as lib/audit/search/indexer.ts), in its batches: CPU µs/event. */
async function indexerCost(client: pg.Client, pid: number, chain: string, from: number): Promise<number> {
  const cpuBefore = processCpuMicros(pid) ?? 0;
  for (let seq = from; seq < from + EVENTS; seq += 2_000) {
    await client.query(
      `INSERT INTO audit_search (chain, seq, occurred_at, text, refs)
       SELECT e.chain, e.seq, e.occurred_at,
              custody_audit_search_text(e.actor_label, e.action, e.target_id, e.request_id, e.source_ip, e.details),
              custody_audit_search_refs(e.actor_label, e.request_id, e.details)
         FROM audit_events e WHERE e.chain = $1 AND e.seq > $2 AND e.seq <= $3
       ON CONFLICT (chain, seq) DO NOTHING`,
      [chain, seq, Math.min(seq + 2_000, from + EVENTS)],
    );
  }
  await client.query("SELECT gin_clean_pending_list('audit_search_text_idx'::regclass), gin_clean_pending_list('audit_search_refs_idx'::regclass)");
  return ((processCpuMicros(pid) ?? 0) - cpuBefore) / EVENTS;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url, application_name: "custody-bench-audit-insert" });
  await client.connect();
  try {
    const tenantId = randomUUID();
    const keyId = randomUUID();
    await client.query("INSERT INTO tenants (id, slug, name) VALUES ($1, 'bench-insert', 'Bench insert')", [tenantId]);
    // Nothing else may clean the GIN pending lists behind the measured backend's back.
    // (On each month's partition when audit_events is partitioned: the parent takes no storage options.)
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c
        WHERE c.relkind = 'r' AND (c.relname = 'audit_events' OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_events'::regclass))`,
    );
    for (const { name } of tables) await client.query(`ALTER TABLE ${pg.escapeIdentifier(name)} SET (autovacuum_enabled = false)`);
    await prefill(client, tenantId, keyId, PREFILL);
    // The trail as it was before 20261204130000 (built after the rows: faster), and its search rows.
    for (const [name, definition] of MOVED) await client.query(`CREATE INDEX ${pg.escapeIdentifier(name)} ON audit_events ${definition}`);
    await client.query(
      `INSERT INTO audit_search (chain, seq, occurred_at, text, refs)
       SELECT chain, seq, occurred_at, custody_audit_search_text(actor_label, action, target_id, request_id, source_ip, details),
              custody_audit_search_refs(actor_label, request_id, details) FROM audit_events`,
    );
    await client.query("VACUUM ANALYZE audit_events");
    await client.query("VACUUM ANALYZE audit_search");
    const { rows } = await client.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events' AND indexname NOT IN ('audit_events_pkey', 'audit_events_chain_seq_key') ORDER BY indexname",
    );
    const droppable = rows.map((r) => r.indexname);
    const moved = MOVED.map(([name]) => name);
    const batches: string[] = [];
    for (let n = 0; n < EVENTS; n += BATCH) {
      batches.push(batchJson(Array.from({ length: Math.min(BATCH, EVENTS - n) }, (_, i) => unwrapEvent(tenantId, keyId, n + i))));
    }
    const [{ pid }] = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];

    console.log(`bench:audit-insert: ${PREFILL.toLocaleString("en")} events on the trail, ${EVENTS.toLocaleString("en")} appended per variant in batches of ${BATCH}, median of ${RUNS} (variants interleaved)`);
    console.log(`  indexes on audit_events before 20261204130000: ${droppable.length + 2} besides the primary key; after: ${droppable.length + 2 - moved.length}`);
    const variants: Variant[] = [
      { name: "before: every index (as until 20261204130000)", drop: [], cpu: [], rates: [] },
      ...droppable.map((index) => ({ name: `  without ${index}`, drop: [index], cpu: [], rates: [] })),
      { name: "  without both GINs (trigram, jsonb)", drop: moved.slice(0, 2), cpu: [], rates: [] },
      { name: "after: the hot set (20261204130000)", drop: moved, cpu: [], rates: [] },
      { name: "  keys only: the primary key", drop: droppable, cpu: [], rates: [] },
    ];
    await measure(client, pid, [], batches.slice(0, Math.max(1, batches.length >> 2))); // warm-up
    const indexing: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const v of variants) {
        const hot = v.drop === moved;
        const result = await measure(client, pid, v.drop, batches, hot ? async () => void indexing.push(await indexerCost(client, pid, tenantId, PREFILL)) : undefined);
        v.cpu.push(result.cpu);
        v.rates.push(result.rate);
      }
    }
    const results: Result[] = variants.map((v) => ({ name: v.name, cpuPerEvent: median(v.cpu), perSecond: median(v.rates) }));
    const all = results[0]!;
    for (const r of results) {
      const saved = r === all ? "" : `   saves ${(all.cpuPerEvent - r.cpuPerEvent).toFixed(1).padStart(6)} µs/event (${(((all.cpuPerEvent - r.cpuPerEvent) / all.cpuPerEvent) * 100).toFixed(0).padStart(3)}%)`;
      console.log(`  ${r.name.padEnd(62)} ${r.cpuPerEvent.toFixed(1).padStart(7)} µs/event  ${Math.round(r.perSecond).toLocaleString("en").padStart(8)} events/s${saved}`);
    }
    console.log(`  ${"audit-search job, indexing them behind the chain (background)".padEnd(62)} ${median(indexing).toFixed(1).padStart(7)} µs/event`);
  } finally {
    await client.end().catch(() => {});
    await db.drop();
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error)));
