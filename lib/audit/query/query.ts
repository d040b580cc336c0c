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
// Every filtered column has an index in this order (migration 20261129050000), and values
// that live in `details` use its GIN index (they are rare: object ids, request ids) or the
// data-label expression index.

const COLUMNS = Prisma.raw(`id, ${EVENT_COLUMNS_SQL}`);

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

/** The SQL of one page (one more row than asked, to know whether another page follows). */
export function pageQuery(chain: string, filter: AuditFilter, options: { before?: AuditCursor; limit: number }): Prisma.Sql {
  const after = options.before ? Prisma.sql` AND (occurred_at, seq) < (${options.before.at}, ${options.before.seq})` : Prisma.empty;
  return Prisma.sql`
    SELECT ${COLUMNS} FROM audit_events
     WHERE ${filterCondition(chain, filter)}${after}
     ORDER BY occurred_at DESC, seq DESC
     LIMIT ${options.limit + 1}`;
}

/** One page of a chain through a filter, newest first, strictly older than `before` when given. */
export async function queryAuditPage(
  chain: string,
  filter: AuditFilter,
  options: { before?: AuditCursor; limit: number },
): Promise<AuditPage> {
  const rows = await getReadDb().$queryRaw<Row[]>(pageQuery(chain, filter, options));
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
