import "server-only";
import { getDb, getReadDb, Prisma } from "@/lib/db";
import type { PrismaClient } from "@/lib/db/generated/client";
import type { AuditEvent } from "@/lib/db/generated/client";
import {
  type Conversion,
  convertEvent,
  EVENT_COLUMNS_SQL,
  type EventFieldsAs,
  type RowRepresentation,
  same,
  type StoredRepresentation,
  TEXT_AS_IS,
} from "../trail/event-fields";
import { type AuditCursor, type AuditFilter, encodeCursor } from "./filter";

// Reading one chain through a filter. The chain is always the caller's own, decided by the
// server (a tenant id, or the vendor chain), never taken from the request: no filter value
// and no cursor can reach another chain's rows.
//
// Order is newest first on (occurred_at, seq), keyset-paged on that pair: each page is an
// index range read after the previous one, so page 10,000 costs what page 1 costs, and
// events appended meanwhile land before the first page instead of shifting later ones.
// Every column filtered on audit_events itself (action, outcome, key, time) has an index in
// this order (migration 20261129050000). Free text and the filters whose values live in
// `details` (actor, data label, object, request) read audit_search instead (migration
// 20261204130000, lib/audit/search): the search structure filled just behind the chain, so the
// hot table maintains no GIN index on the audited request's commit. Such a page is the indexed
// part (seq <= the chain's search watermark) joined back to audit_events, merged with the tail
// above the watermark read from audit_events with the same conditions: recent events are never
// missing, however far behind the search is. `filterCondition` is the reference: it states each
// filter on audit_events alone (the live view and the tail use it); audit_search's conditions
// are equal to it by construction (custody_audit_search_text and custody_audit_search_refs).

const COLUMNS = Prisma.raw(`id, ${EVENT_COLUMNS_SQL}`);
/** COLUMNS of audit_events aliased `e`, where audit_search `s` is joined. */
const E_COLUMNS = Prisma.raw(`e.id, ${EVENT_COLUMNS_SQL.replace(/(^|,\s*)(\w+)/g, "$1e.$2")}`);

/** A row as COLUMNS reads it: the chain's representation (enums as text labels), seq and id as the driver gives them. */
type Row = { id: bigint } & EventFieldsAs<RowRepresentation>;

const ROW_TO_STORED: Conversion<RowRepresentation, StoredRepresentation> = {
  ...TEXT_AS_IS,
  seq: (value) => BigInt(value),
  time: same,
  actorType: (value) => value.toUpperCase() as AuditEvent["actorType"],
  outcome: (value) => value.toUpperCase() as AuditEvent["outcome"],
  details: (value) => value as AuditEvent["details"],
};

function toEvent(row: Row): AuditEvent {
  return { id: BigInt(row.id), ...convertEvent(row, ROW_TO_STORED) };
}

const json = (value: unknown) => JSON.stringify(value);

/** Escapes LIKE's wildcards so free text matches literally. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The filter's conditions, ANDed, for one chain. */
export function filterCondition(chain: string, filter: AuditFilter): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`chain = ${chain}`];
  if (filter.action) parts.push(Prisma.sql`action = ${filter.action}`);
  if (filter.outcome) parts.push(Prisma.sql`outcome = ${filter.outcome}::audit_outcome`);
  if (filter.actor) {
    parts.push(Prisma.sql`(actor_label = ${filter.actor} OR details @> ${json({ onBehalfOf: filter.actor })}::jsonb)`);
  }
  if (filter.key) {
    // A KMS key stands for itself (console events) and for the tenant keys it wraps (key-service events).
    parts.push(Prisma.sql`target_id IN (SELECT ${filter.key} UNION ALL SELECT id::text FROM tenant_keys WHERE kms_key_id = ${filter.key}::uuid)`);
  }
  if (filter.label) {
    parts.push(Prisma.sql`(details ->> 'dataLabel' = ${filter.label} OR details @> ${json({ dataLabels: [filter.label] })}::jsonb)`);
  }
  if (filter.object) {
    parts.push(
      Prisma.sql`(details @> ${json({ objectId: filter.object })}::jsonb OR details @> ${json({ objectIds: [filter.object] })}::jsonb)`,
    );
  }
  if (filter.request) {
    parts.push(Prisma.sql`(request_id = ${filter.request} OR details @> ${json({ custodyRequestId: filter.request })}::jsonb)`);
  }
  if (filter.from) parts.push(Prisma.sql`occurred_at >= ${filter.from}`);
  if (filter.to) parts.push(Prisma.sql`occurred_at < ${filter.to}`);
  if (filter.q) {
    parts.push(
      Prisma.sql`custody_audit_search_text(actor_label, action, target_id, request_id, source_ip, details) LIKE ${likePattern(filter.q)}`,
    );
  }
  return Prisma.join(parts, " AND ");
}

export type AuditPage = {
  events: AuditEvent[];
  /** Cursor of the next (older) page, or null at the start of the trail. */
  next: string | null;
};

/** Whether the filter reads audit_search: free text or a value that lives in `details`. */
export function usesSearch(filter: AuditFilter): boolean {
  return SEARCH_FIELDS.some((field) => filter[field] !== undefined);
}

const SEARCH_FIELDS = ["q", "actor", "label", "object", "request"] as const;

/** The tagged values (custody_audit_search_refs) an event must carry to pass the filter's actor, label, object and request. */
function searchRefs(filter: AuditFilter): string[] {
  const refs: string[] = [];
  if (filter.actor) refs.push(`actor:${filter.actor}`);
  if (filter.label) refs.push(`label:${filter.label}`);
  if (filter.object) refs.push(`object:${filter.object}`);
  if (filter.request) refs.push(`request:${filter.request}`);
  return refs;
}

/**
 * The word of a free-text term the trigram index is asked for (null: the whole term): words are
 * runs of letters and digits, as pg_trgm splits them; one with a digit is taken first (ids,
 * addresses: selective), then the longest; a word under three characters gives no trigram.
 */
export function probeWord(q: string): string | null {
  const words = (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length >= 3);
  if (words.length <= 1) return null;
  const score = (w: string) => (/\p{N}/u.test(w) ? 1_000 : 0) + w.length;
  return words.reduce((best, w) => (score(w) > score(best) ? w : best));
}

/** The filter's conditions on audit_search `s` joined to audit_events `e`: equal to filterCondition, through the search's indexes. */
function searchCondition(chain: string, filter: AuditFilter, indexedSeq: bigint): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`s.chain = ${chain} AND e.chain = ${chain} AND s.seq <= ${indexedSeq}`];
  if (filter.q) {
    // The trigram index reads the posting list of every trigram of the pattern, and a rare term
    // is often made of common trigrams ("obj-4711": "obj" is in every event). So the index is
    // asked for the term's most selective word only (implied by the term, so nothing is lost),
    // and the whole term is checked on the few rows that come back (strpos: the same exact,
    // case-folded substring test as LIKE on escaped text, which the index cannot serve).
    const probe = probeWord(filter.q);
    parts.push(
      probe === null
        ? Prisma.sql`s.text LIKE ${likePattern(filter.q)}`
        : Prisma.sql`s.text LIKE ${likePattern(probe)} AND strpos(s.text, ${filter.q.toLowerCase()}) > 0`,
    );
  }
  const refs = searchRefs(filter);
  if (refs.length > 0) parts.push(Prisma.sql`s.refs @> ${refs}::text[]`);
  if (filter.action) parts.push(Prisma.sql`e.action = ${filter.action}`);
  if (filter.outcome) parts.push(Prisma.sql`e.outcome = ${filter.outcome}::audit_outcome`);
  if (filter.key) {
    parts.push(Prisma.sql`e.target_id IN (SELECT ${filter.key} UNION ALL SELECT id::text FROM tenant_keys WHERE kms_key_id = ${filter.key}::uuid)`);
  }
  if (filter.from) parts.push(Prisma.sql`s.occurred_at >= ${filter.from}`);
  if (filter.to) parts.push(Prisma.sql`s.occurred_at < ${filter.to}`);
  return Prisma.join(parts, " AND ");
}

/**
 * The SQL of one page (one more row than asked, to know whether another page follows). A filter
 * that reads audit_search needs the chain's search watermark (`searchIndexedSeq`), read before.
 */
export function pageQuery(
  chain: string,
  filter: AuditFilter,
  options: { before?: AuditCursor; limit: number; indexedSeq?: bigint },
): Prisma.Sql {
  const after = options.before ? Prisma.sql` AND (occurred_at, seq) < (${options.before.at}, ${options.before.seq})` : Prisma.empty;
  if (!usesSearch(filter)) {
    return Prisma.sql`
      SELECT ${COLUMNS} FROM audit_events
       WHERE ${filterCondition(chain, filter)}${after}
       ORDER BY occurred_at DESC, seq DESC
       LIMIT ${options.limit + 1}`;
  }
  const indexedSeq = options.indexedSeq ?? 0n;
  const sAfter = options.before ? Prisma.sql` AND (s.occurred_at, s.seq) < (${options.before.at}, ${options.before.seq})` : Prisma.empty;
  // The tail (above the watermark) from the chain itself, the rest through the search's indexes;
  // each branch ordered and cut to the page, then merged.
  // The tail is materialised first, so it is read by (chain, seq) whatever the planner guesses
  // about the filter: it is short while the indexer keeps up.
  return Prisma.sql`
    WITH tail AS MATERIALIZED (SELECT * FROM audit_events WHERE chain = ${chain} AND seq > ${indexedSeq})
    SELECT * FROM (
      (SELECT ${COLUMNS} FROM tail
        WHERE ${filterCondition(chain, filter)}${after}
        ORDER BY occurred_at DESC, seq DESC
        LIMIT ${options.limit + 1})
      UNION ALL
      (SELECT ${E_COLUMNS} FROM audit_search s JOIN audit_events e ON e.chain = s.chain AND e.seq = s.seq
        WHERE ${searchCondition(chain, filter, indexedSeq)}${sAfter}
        ORDER BY s.occurred_at DESC, s.seq DESC
        LIMIT ${options.limit + 1})
    ) AS page
    ORDER BY "occurredAt" DESC, seq DESC
    LIMIT ${options.limit + 1}`;
}

/**
 * A statement selecting one row per event of the chain that passes the filter (for counting and
 * estimating, e.g. the export's size): through audit_search below the watermark and from the
 * chain above it when the filter reads the search, from audit_events alone otherwise.
 */
export function matchingEvents(chain: string, filter: AuditFilter, indexedSeq: bigint): Prisma.Sql {
  if (!usesSearch(filter)) return Prisma.sql`SELECT 1 FROM audit_events WHERE ${filterCondition(chain, filter)}`;
  return Prisma.sql`
    SELECT 1 FROM audit_events WHERE ${filterCondition(chain, filter)} AND seq > ${indexedSeq}
    UNION ALL
    SELECT 1 FROM audit_search s JOIN audit_events e ON e.chain = s.chain AND e.seq = s.seq WHERE ${searchCondition(chain, filter, indexedSeq)}`;
}

/** Every event of the chain with seq at or below this is in audit_search (0: none yet). */
export async function searchIndexedSeq(chain: string, db: PrismaClient = getReadDb()): Promise<bigint> {
  const [row] = await db.$queryRaw<Array<{ indexed_seq: bigint }>>`SELECT indexed_seq FROM audit_search_watermarks WHERE chain = ${chain}`;
  return row ? BigInt(row.indexed_seq) : 0n;
}

/** One page of a chain through a filter, newest first, strictly older than `before` when given. */
export async function queryAuditPage(
  chain: string,
  filter: AuditFilter,
  options: { before?: AuditCursor; limit: number },
): Promise<AuditPage> {
  const db = getReadDb();
  // The watermark first: the rows at or below it are in audit_search for good (the indexer
  // commits rows and watermark together), the rest is read from the chain.
  const indexedSeq = usesSearch(filter) ? await searchIndexedSeq(chain, db) : undefined;
  const rows = await db.$queryRaw<Row[]>(pageQuery(chain, filter, { ...options, indexedSeq }));
  const events = rows.slice(0, options.limit).map(toEvent);
  const last = events[events.length - 1];
  return { events, next: rows.length > options.limit && last ? encodeCursor({ at: last.occurredAt, seq: last.seq }) : null };
}

/** The cursor that makes event `seq` of the chain the first of its page, or null if it is not there. */
export async function cursorAt(chain: string, seq: bigint): Promise<AuditCursor | null> {
  const [row] = await getReadDb().$queryRaw<Array<{ occurred_at: Date }>>`
    SELECT occurred_at FROM audit_events WHERE chain = ${chain} AND seq = ${seq}`;
  return row ? { at: row.occurred_at, seq: seq + 1n } : null;
}

/** One event of a chain, by seq. */
export async function findChainEvent(chain: string, seq: bigint): Promise<AuditEvent | null> {
  const [row] = await getReadDb().$queryRaw<Row[]>`SELECT ${COLUMNS} FROM audit_events WHERE chain = ${chain} AND seq = ${seq}`;
  return row ? toEvent(row) : null;
}

/**
 * The chain's head seq (0 when it has no events): where a live view starts listening. A page
 * read from the replica reads its head there too (`getReadDb()`), so the live view that follows
 * it starts where the page ended, not where the primary already is.
 */
export async function chainHeadSeq(chain: string, db: PrismaClient = getDb()): Promise<bigint> {
  const [row] = await db.$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${chain}`;
  return row ? BigInt(row.seq) : 0n;
}

/**
 * Events of a chain through a filter with seq above `afterSeq`, in chain order, at most `limit`
 * (the live view's catch-up after a notification or a reconnect).
 */
export async function eventsAfter(chain: string, filter: AuditFilter, afterSeq: bigint, limit: number): Promise<AuditEvent[]> {
  const rows = await getDb().$queryRaw<Row[]>`
    SELECT ${COLUMNS} FROM audit_events
     WHERE ${filterCondition(chain, filter)} AND seq > ${afterSeq}
     ORDER BY seq
     LIMIT ${limit}`;
  return rows.map(toEvent);
}

/**
 * Every event of a chain through a filter, newest first, read a batch at a time by keyset, so
 * memory stays bounded however many match (the export).
 */
export async function* streamAuditEvents(chain: string, filter: AuditFilter, batchSize = 1_000): AsyncGenerator<AuditEvent> {
  let before: AuditCursor | undefined;
  for (;;) {
    const page = await queryAuditPage(chain, filter, { before, limit: batchSize });
    for (const event of page.events) yield event;
    const last = page.events[page.events.length - 1];
    if (!page.next || !last) return;
    before = { at: last.occurredAt, seq: last.seq };
  }
}
