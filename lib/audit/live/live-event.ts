import type { AuditEvent } from "@/lib/db/generated/client";

// An audit event as the live view sends it to the browser (the SSE stream's `data`, and the
// first page handed to the client component): JSON, with seq and time as strings. Pure, so
// the client component can turn it back into what the table renders.
//
// The row id is left out on purpose: it is one sequence across every chain, so its growth
// would tell a tenant how busy the other tenants are. Within one chain, seq is as unique.

export type LiveAuditEvent = {
  chain: string;
  seq: string;
  occurredAt: string;
  tenantId: string | null;
  actorType: AuditEvent["actorType"];
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditEvent["outcome"];
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: AuditEvent["details"];
  prevHash: string;
  hash: string;
};

export function toLiveEvent(event: AuditEvent): LiveAuditEvent {
  return {
    chain: event.chain,
    seq: event.seq.toString(),
    occurredAt: event.occurredAt.toISOString(),
    tenantId: event.tenantId,
    actorType: event.actorType,
    actorId: event.actorId,
    actorLabel: event.actorLabel,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    requestId: event.requestId,
    details: event.details,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

/** Back to the table's shape. `id` is the seq: the table keys rows by it, and one chain's seqs are unique. */
export function fromLiveEvent(event: LiveAuditEvent): AuditEvent {
  const seq = BigInt(event.seq);
  return { ...event, id: seq, seq, occurredAt: new Date(event.occurredAt) };
}
