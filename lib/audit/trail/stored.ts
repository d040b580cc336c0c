import type { AuditEvent } from "@/lib/db/generated/client";
import type { ChainEvent } from "./chain";
import {
  type ChainRepresentation,
  type Conversion,
  convertEvent,
  same,
  type StoredRepresentation,
  TEXT_AS_IS,
} from "./event-fields";

const STORED_TO_CHAIN: Conversion<StoredRepresentation, ChainRepresentation> = {
  ...TEXT_AS_IS,
  seq: same,
  time: same,
  actorType: (value) => value.toLowerCase(),
  outcome: (value) => value.toLowerCase(),
  details: same,
};

/** A stored event's hashed fields as the chain saw them (enum labels lower-case, as in SQL). */
export function chainedFieldsOf(event: AuditEvent): ChainEvent {
  return convertEvent(event, STORED_TO_CHAIN);
}
