import type { AuditEvent } from "@/lib/db/generated/client";
import type { ChainedFields } from "./chain";

/** A stored event's hashed fields as the chain saw them (enum labels lower-case, as in SQL). */
export function chainedFieldsOf(event: AuditEvent): ChainedFields & { prevHash: string; hash: string } {
  return {
    chain: event.chain,
    seq: event.seq,
    occurredAt: event.occurredAt,
    tenantId: event.tenantId,
    actorType: event.actorType.toLowerCase(),
    actorId: event.actorId,
    actorLabel: event.actorLabel,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome.toLowerCase(),
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    requestId: event.requestId,
    details: event.details,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
