import "server-only";
import { getDb, type Tx } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import type { RequestMeta } from "@/lib/http/request-meta";
import { type AuditAction, VENDOR_CHAIN } from "../actions";
import { type ChainedFields, GENESIS_HASH, hashEvent, type TailFields } from "./chain";

/** Who acted: a person, a vendor admin, a service credential, or Custody itself. Null id: unknown person. */
export type Actor = { type: "user" | "vendor_admin" | "service" | "system"; id: string | null; label: string };

export type AuditInput = {
  tenantId: string | null;
  actor: Actor;
  action: AuditAction;
  target?: { type: string; id: string };
  outcome: "success" | "denied" | "failure";
  request: RequestMeta;
  /** Small, non-secret facts about the event (never key material, tokens or raw errors). */
  details?: AuditDetails;
};

export type AuditDetails = Record<string, string | number | boolean | null | ReadonlyArray<string | number>>;

/** The hashed fields an input contributes: all but chain, seq and time, which the append decides. */
export function eventFieldsOf(input: AuditInput): TailFields {
  return {
    tenantId: input.tenantId,
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorLabel: input.actor.label,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    outcome: input.outcome,
    sourceIp: input.request.sourceIp,
    userAgent: input.request.userAgent,
    requestId: input.request.requestId,
    details: input.details ?? null,
  };
}

const ACTOR_TYPE = { user: "USER", vendor_admin: "VENDOR_ADMIN", service: "SERVICE", system: "SYSTEM" } as const;
const OUTCOME = { success: "SUCCESS", denied: "DENIED", failure: "FAILURE" } as const;

/**
 * Appends one event to its tenant's hash chain inside the caller's transaction, so the change
 * and its event commit together or not at all. Taking the chain head's row lock orders the
 * chain: concurrent appends to one tenant queue here; other tenants are not held up.
 */
export async function appendAuditEvent(tx: Tx, given: AuditInput): Promise<AuditEvent> {
  // A tenant id as PostgreSQL prints a uuid (lower case), whatever the caller passed: the chain
  // is that text, and an upper-case id would otherwise open a second chain for the same tenant,
  // one that nothing reads (the live view, sinks and rollups read the canonical one).
  const input: AuditInput = given.tenantId === null ? given : { ...given, tenantId: given.tenantId.toLowerCase() };
  const chain = input.tenantId ?? VENDOR_CHAIN;
  const [head] = await tx.$queryRaw<Array<{ seq: bigint; head_hash: string }>>`
    INSERT INTO audit_chains (chain, seq, head_hash) VALUES (${chain}, 1, ${GENESIS_HASH})
    ON CONFLICT (chain) DO UPDATE SET seq = audit_chains.seq + 1
    RETURNING seq, head_hash`;
  if (!head) throw new Error("audit chain head was not returned");

  const chained: ChainedFields = {
    chain,
    seq: head.seq,
    // Taken after the lock so time order and chain order agree.
    occurredAt: new Date(),
    ...eventFieldsOf(input),
  };
  const hash = hashEvent(head.head_hash, chained);

  const event = await tx.auditEvent.create({
    data: {
      ...chained,
      actorType: ACTOR_TYPE[input.actor.type],
      outcome: OUTCOME[input.outcome],
      details: input.details ?? undefined,
      prevHash: head.head_hash,
      hash,
    },
  });
  await tx.$executeRaw`UPDATE audit_chains SET head_hash = ${hash}, updated_at = now() WHERE chain = ${chain}`;
  return event;
}

/** Records an event on its own, for facts with no accompanying change (sign-ins, refusals). */
export async function recordAuditEvent(input: AuditInput): Promise<AuditEvent> {
  return getDb().$transaction((tx) => appendAuditEvent(tx, input));
}
