import type { SinkEvent } from "../types";

/** An event with every field set and characters that need escaping somewhere (tests only). */
export const EVENT: SinkEvent = {
  id: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f:42",
  chain: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f",
  seq: "42",
  occurredAt: "2026-11-29T10:00:01.234Z",
  tenantId: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f",
  actorType: "user",
  actorId: "u1",
  actorLabel: 'Zoë "Z" O\\Brien [admin]',
  action: "key.unwrap",
  targetType: "key",
  targetId: null,
  outcome: "denied",
  sourceIp: "203.0.113.9",
  userAgent: "curl/8",
  requestId: "r-1",
  details: { reason: "revoked" },
  prevHash: "a".repeat(64),
  hash: "b".repeat(64),
};
