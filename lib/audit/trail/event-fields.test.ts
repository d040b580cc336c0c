import { describe, expect, expectTypeOf, it } from "vitest";
import type { AuditEvent } from "@/lib/db/generated/client";
import {
  CHAINED_FIELDS,
  columnOf,
  EVENT_COLUMNS_SQL,
  EVENT_FIELDS,
  type EventFieldsAs,
  type StoredRepresentation,
  TAIL_FIELDS,
} from "./event-fields";

describe("the event's fields", () => {
  it("are Prisma's AuditEvent, field for field and type for type, less the row id", () => {
    expectTypeOf<EventFieldsAs<StoredRepresentation>>().toEqualTypeOf<Omit<AuditEvent, "id">>();
  });

  it("hash in order: chain, seq, time, then the tail; prevHash and hash are not hashed", () => {
    expect(CHAINED_FIELDS.slice(0, 3)).toEqual(["chain", "seq", "occurredAt"]);
    expect(CHAINED_FIELDS.slice(3)).toEqual(TAIL_FIELDS);
    expect(EVENT_FIELDS).toEqual([...CHAINED_FIELDS, "prevHash", "hash"]);
  });

  it("name their columns in snake case and select enums as text", () => {
    expect(columnOf("occurredAt")).toBe("occurred_at");
    expect(columnOf("prevHash")).toBe("prev_hash");
    expect(EVENT_COLUMNS_SQL).toContain(`actor_type::text AS "actorType"`);
    expect(EVENT_COLUMNS_SQL).toContain(`outcome::text AS "outcome"`);
    expect(EVENT_COLUMNS_SQL.split(", ")).toHaveLength(EVENT_FIELDS.length);
  });
});
