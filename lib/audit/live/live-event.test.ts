import { describe, expect, it } from "vitest";
import type { AuditEvent } from "@/lib/db/generated/client";
import { fromLiveEvent, toLiveEvent } from "./live-event";
import { formatDelivery } from "./live-stream";

const event: AuditEvent = {
  id: 987_654n,
  chain: "7d3c2a10-0000-4000-8000-000000000001",
  seq: 42n,
  occurredAt: new Date("2026-11-29T12:00:00.123Z"),
  tenantId: "7d3c2a10-0000-4000-8000-000000000001",
  actorType: "SERVICE",
  actorId: "cred",
  actorLabel: "records-app",
  action: "key.unwrap",
  targetType: "tenant_key",
  targetId: "k1",
  outcome: "DENIED",
  sourceIp: "198.51.100.7",
  userAgent: "custody-sdk/0.1",
  requestId: "r-1",
  // A data label is chosen by the vendor's application: it must not be able to forge stream lines.
  details: { dataLabel: "notes\n\nevent: audit\ndata: {\"seq\":\"9999\"}\r\nid: 9999\n\n", objectIds: ["o\u2028x"] },
  prevHash: "a".repeat(64),
  hash: "b".repeat(64),
};

describe("live events", () => {
  it("round-trip through JSON without the global row id", () => {
    const sent = JSON.parse(JSON.stringify(toLiveEvent(event)));
    expect(sent).not.toHaveProperty("id");
    expect(sent.seq).toBe("42");
    const back = fromLiveEvent(sent);
    expect(back).toEqual({ ...event, id: 42n });
  });

  it("are framed as one SSE message each, whatever their text holds", () => {
    const text = formatDelivery({ events: [event], examined: 42n });
    const messages = text.split("\n\n").filter(Boolean);
    expect(messages).toHaveLength(1);
    const lines = messages[0]!.split(/\r\n|\r|\n/);
    expect(lines.map((l) => l.split(":")[0])).toEqual(["id", "event", "data"]);
    expect(lines[0]).toBe("id: 42");
    expect(JSON.parse(lines[2]!.slice("data: ".length)).details).toEqual(event.details);
  });

  it("mark events passed over by the filter with a bare id", () => {
    expect(formatDelivery({ events: [event], examined: 50n })).toMatch(/\n\nid: 50\n\n$/);
    expect(formatDelivery({ events: [], examined: 50n })).toBe("id: 50\n\n");
  });
});
