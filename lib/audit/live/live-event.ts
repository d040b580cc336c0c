import type { AuditEvent } from "@/lib/db/generated/client";
import {
  type Conversion,
  convertEvent,
  type EventFieldsAs,
  same,
  SEQ_AND_TIME_AS_TEXT,
  type StoredRepresentation,
  TEXT_AS_IS,
  type WithTextSeqAndTime,
} from "../trail/event-fields";

// An audit event as the live view sends it to the browser (the SSE stream's `data`, and the
// first page handed to the client component): JSON, with seq and time as strings. Pure, so
// the client component can turn it back into what the table renders.
//
// The row id is left out on purpose: it is one sequence across every chain, so its growth
// would tell a tenant how busy the other tenants are. Within one chain, seq is as unique.

/** Seq and time as strings; enums and details as stored. */
type LiveRepresentation = WithTextSeqAndTime<StoredRepresentation>;

export type LiveAuditEvent = EventFieldsAs<LiveRepresentation>;

const STORED_TO_LIVE: Conversion<StoredRepresentation, LiveRepresentation> = {
  ...TEXT_AS_IS,
  ...SEQ_AND_TIME_AS_TEXT,
  actorType: same,
  outcome: same,
  details: same,
};

export function toLiveEvent(event: AuditEvent): LiveAuditEvent {
  return convertEvent(event, STORED_TO_LIVE);
}

/** Back to the table's shape. `id` is the seq: the table keys rows by it, and one chain's seqs are unique. */
export function fromLiveEvent(event: LiveAuditEvent): AuditEvent {
  const seq = BigInt(event.seq);
  return { ...event, id: seq, seq, occurredAt: new Date(event.occurredAt) };
}
