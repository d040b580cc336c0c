import "server-only";
import { type AuditAction, type AuditInput, appendAuditEvent } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import type { ServiceScope as DbServiceScope } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { actorOf, type Caller, grantsAccess, Refusal, refusalAudit, type Standing } from "@/lib/authz";
import type { ServiceScope } from "@/lib/validation/keyservice";

// What the credential verbs share: vendor-admin checks, audit events in the vendor chain and
// (for a tenant-restricted credential) the tenant's chain, refusals audited after rollback, and
// the per-name lock that keeps "at most two active credentials per name" true under concurrency.

export const TARGET_TYPE = "service_credential";

export const MAX_ACTIVE_PER_NAME = 2;

const TO_DB: Record<ServiceScope, DbServiceScope> = { wrap: "WRAP", unwrap: "UNWRAP", rekey: "REKEY" };
const FROM_DB: Record<DbServiceScope, ServiceScope> = { WRAP: "wrap", UNWRAP: "unwrap", REKEY: "rekey" };

export function scopesToDb(scopes: readonly ServiceScope[]): DbServiceScope[] {
  return scopes.map((s) => TO_DB[s]);
}

export function scopesFromDb(scopes: readonly DbServiceScope[]): ServiceScope[] {
  return scopes.map((s) => FROM_DB[s]);
}

/** The audit inputs for one credential event: the vendor chain, and the tenant's chain when restricted to one. */
export function eventsFor(base: Omit<AuditInput, "tenantId">, tenantId: string | null): AuditInput[] {
  return tenantId ? [{ ...base, tenantId: null }, { ...base, tenantId }] : [{ ...base, tenantId: null }];
}

export async function appendEvents(tx: Tx, events: AuditInput[]): Promise<void> {
  for (const event of events) await appendAuditEvent(tx, event);
}

/**
 * A refused credential change. A vendor admin's refusal, or that of a member of the tenant the
 * credential is restricted to, goes to the vendor chain and that tenant's, as its success would;
 * anyone else's goes to the vendor chain only, with ids and the reason but not the name they
 * typed (`refusalAudit`), so a member of one tenant cannot write into another's trail.
 */
export async function refuse(
  tx: Tx,
  caller: Caller,
  standing: Standing,
  tenantId: string | null,
  action: AuditAction,
  target: { type: string; id: string } | undefined,
  details: Record<string, string | number | boolean | null> & { reason: string },
  publicError = new AppError("forbidden", "Only vendor admins can manage service credentials."),
): Promise<Refusal> {
  const member =
    tenantId !== null && !standing.isVendorAdmin && (await tx.membership.count({ where: { tenantId, userId: caller.userId, ...grantsAccess() } })) > 0;
  if (!standing.isVendorAdmin && !member) {
    return new Refusal([refusalAudit(caller, standing, tenantId, { action, target, details }, false)], publicError);
  }
  return new Refusal(
    eventsFor({ actor: actorOf(caller, standing), action, target, outcome: "denied", request: caller.request, details }, tenantId),
    publicError,
  );
}

/**
 * Serialises changes to credentials of one name (case-insensitive) until the transaction ends,
 * so two concurrent creates or rotations cannot both see room for one more active credential.
 */
export async function lockCredentialName(tx: Tx, name: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('service_credentials'), hashtext(lower(${name})))`;
}

export async function countActiveNamed(tx: Tx, name: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM service_credentials WHERE lower(name) = lower(${name}) AND revoked_at IS NULL`;
  return row?.n ?? 0;
}

/** Small, non-secret facts about a credential for its audit events (never the secret or its hash). */
export function credentialDetails(credential: {
  name: string;
  scopes: readonly ServiceScope[];
  tenant: { id: string; slug: string } | null;
}): Record<string, string | null> {
  return {
    name: credential.name,
    scopes: credential.scopes.join(" "),
    tenant: credential.tenant?.slug ?? null,
  };
}
