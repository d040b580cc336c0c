import type { AuditEvent } from "@/lib/db/generated/client";

// The audit event's fields, declared once, in hash order. Pure code (the live table, a client
// component, reads it too). Every TypeScript shape of an event is this list in one
// representation: the hash chain's (chain.ts, stored.ts), the stored row's (Prisma's
// AuditEvent, checked against it in event-fields.test.ts), the live stream's (live-event.ts)
// and the export's (export-format.ts); the group commit (group-commit.ts), the queries
// (query.ts) and verification (verify-chain.ts) derive their column lists from it. The table
// and the database's batch append keep their own SQL spelling, checked against this list by
// tests/integration/audit-event-fields.test.ts.

/** Each field and the kind of value it holds; a representation gives each kind a type. */
export const EVENT_FIELD_KINDS = {
  chain: "text",
  seq: "seq",
  occurredAt: "time",
  tenantId: "optionalText",
  actorType: "actorType",
  actorId: "optionalText",
  actorLabel: "optionalText",
  action: "text",
  targetType: "optionalText",
  targetId: "optionalText",
  outcome: "outcome",
  sourceIp: "optionalText",
  userAgent: "optionalText",
  requestId: "optionalText",
  details: "details",
  prevHash: "text",
  hash: "text",
} as const;

type Kinds = typeof EVENT_FIELD_KINDS;
export type EventField = keyof Kinds;
export type FieldKind = Kinds[EventField];
/** A type for each kind of field. */
export type Representation = { [K in FieldKind]: unknown };

/** The link fields: what the chain adds to an event. */
export const LINK_FIELDS = ["prevHash", "hash"] as const;
/** The fields the append decides (only the database knows them in a group commit). */
export const HEAD_FIELDS = ["chain", "seq", "occurredAt"] as const;
export type ChainedField = Exclude<EventField, (typeof LINK_FIELDS)[number]>;
export type TailField = Exclude<ChainedField, (typeof HEAD_FIELDS)[number]>;

/** Every field, in order: the hashed ones, then prevHash and hash. */
export const EVENT_FIELDS = Object.keys(EVENT_FIELD_KINDS) as EventField[];
/** The fields an event's hash covers, in hash order. */
export const CHAINED_FIELDS = EVENT_FIELDS.filter((f): f is ChainedField => !(LINK_FIELDS as readonly string[]).includes(f));
/** The hashed fields after chain, seq and time: what an append's caller supplies. */
export const TAIL_FIELDS = CHAINED_FIELDS.filter((f): f is TailField => !(HEAD_FIELDS as readonly string[]).includes(f));

/** An event (or some of its fields) in one representation. */
export type EventFieldsAs<R extends Representation, F extends EventField = EventField> = { [K in F]: R[Kinds[K]] };

/** The hash chain's view: enums as their SQL labels ("user", "success"). */
export type ChainRepresentation = {
  text: string;
  optionalText: string | null;
  seq: bigint;
  time: Date;
  actorType: string;
  outcome: string;
  details: unknown;
};

/** The stored row's (Prisma's) view. */
export type StoredRepresentation = Omit<ChainRepresentation, "actorType" | "outcome" | "details"> & {
  actorType: AuditEvent["actorType"];
  outcome: AuditEvent["outcome"];
  details: AuditEvent["details"];
};

/** A row read with EVENT_COLUMNS_SQL: the chain's view, seq as the driver gives it (bigint from Prisma, text from pg). */
export type RowRepresentation = Omit<ChainRepresentation, "seq"> & { seq: bigint | string };

/** A function per kind of field from one representation to another. */
export type Conversion<From extends Representation, To extends Representation> = { [K in FieldKind]: (value: From[K]) => To[K] };

/** The event with every field converted by its kind. */
export function convertEvent<From extends Representation, To extends Representation>(
  event: EventFieldsAs<From>,
  conversion: Conversion<From, To>,
): EventFieldsAs<To> {
  const converted: Partial<Record<EventField, unknown>> = {};
  for (const field of EVENT_FIELDS) converted[field] = conversion[EVENT_FIELD_KINDS[field]](event[field] as never);
  return converted as EventFieldsAs<To>;
}

/** The value itself: for the kinds two representations share. */
export const same = <T>(value: T): T => value;

/** Text is text in every representation. */
export const TEXT_AS_IS = { text: same<string>, optionalText: same<string | null> };

/** A representation with seq and time as text (see SEQ_AND_TIME_AS_TEXT). */
export type WithTextSeqAndTime<R extends Representation> = Omit<R, "seq" | "time"> & { seq: string; time: string };

/** Seq and time as text, for JSON (which has no 64-bit integers): times in ISO 8601 UTC. */
export const SEQ_AND_TIME_AS_TEXT = { seq: (value: bigint) => value.toString(), time: (value: Date) => value.toISOString() };

/** A field's column in audit_events (and in the batch append's input): snake case. */
export function columnOf(field: EventField): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The given fields of an event under their column names. */
export function byColumn<F extends EventField>(fields: readonly F[], values: { [K in F]: unknown }): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [columnOf(field), values[field]]));
}

/**
 * SQL selecting every field of audit_events, in EVENT_FIELDS order, each as its field name
 * (enums as their text labels): rows come back in the chain's representation, except seq
 * (bigint or text, as the driver gives it).
 */
export const EVENT_COLUMNS_SQL = EVENT_FIELDS.map((field) => {
  const kind: FieldKind = EVENT_FIELD_KINDS[field];
  const column = kind === "actorType" || kind === "outcome" ? `${columnOf(field)}::text` : columnOf(field);
  return `${column} AS "${field}"`;
}).join(", ");
