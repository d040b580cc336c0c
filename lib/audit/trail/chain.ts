import { createHash } from "node:crypto";
import { type ChainedField, type ChainRepresentation, type EventFieldsAs, TAIL_FIELDS, type TailField } from "./event-fields";

// The hash chain. Each event's hash covers the previous event's hash and the event's own
// fields in a fixed order, so editing, removing or reordering any event breaks every hash
// after it. Pure code: shared by append (lib/audit/trail/append.ts) and verification.

export const GENESIS_HASH = "0".repeat(64);

/** The fields an event's hash covers (event-fields.ts); enums as their database labels ("user", "success"). */
export type ChainedFields = EventFieldsAs<ChainRepresentation, ChainedField>;

/** The hashed fields after chain, seq and time. */
export type TailFields = EventFieldsAs<ChainRepresentation, TailField>;

/** An event as the chain sees it: its hashed fields, prevHash and hash. */
export type ChainEvent = EventFieldsAs<ChainRepresentation>;

/** JSON with object keys sorted at every level, so jsonb's key reordering cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  return JSON.stringify(value);
}

/**
 * The canonical JSON of an event's fields after chain, seq and time, without brackets: what
 * the caller of the database's batch append (lib/audit/trail/group-commit.ts) computes, since only
 * the database knows the first three.
 */
export function eventTail(fields: TailFields): string {
  return TAIL_FIELDS.map((field) => canonicalJson(fields[field])).join(",");
}

/** sha256 over the previous hash and the event's canonical JSON array (chain, seq, time, then eventTail). */
export function hashEvent(prevHash: string, fields: ChainedFields): string {
  const body = `[${canonicalJson(fields.chain)},${canonicalJson(fields.seq.toString())},${canonicalJson(fields.occurredAt.toISOString())},${eventTail(fields)}]`;
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}

export type ChainBreak = {
  seq: bigint;
  reason: "hash_mismatch" | "prev_hash_mismatch" | "sequence_gap";
};

/**
 * Checks events of one chain given in sequence order, starting from `startPrevHash`
 * (the genesis hash when starting at seq 1). Returns the first break, or null if intact.
 */
export function verifyChain(
  events: ChainEvent[],
  start: { prevHash: string; seq: bigint } = { prevHash: GENESIS_HASH, seq: 0n },
): ChainBreak | null {
  let prevHash = start.prevHash;
  let expectedSeq = start.seq + 1n;
  for (const event of events) {
    if (event.seq !== expectedSeq) return { seq: event.seq, reason: "sequence_gap" };
    if (event.prevHash !== prevHash) return { seq: event.seq, reason: "prev_hash_mismatch" };
    if (hashEvent(event.prevHash, event) !== event.hash) return { seq: event.seq, reason: "hash_mismatch" };
    prevHash = event.hash;
    expectedSeq += 1n;
  }
  return null;
}
