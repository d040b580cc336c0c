import "server-only";
import type { AuditAction } from "@/lib/audit/actions";
import { type AuditDetails, type AuditInput, appendAuditEvent } from "@/lib/audit/append";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { actorOf, type Caller, type Standing } from "./caller";

/**
 * The one refusal type: a change refused on purpose, to be audited (in every chain it concerns)
 * once the transaction that discovered it has rolled back. The caller sees `publicError` only.
 */
export class Refusal extends Error {
  constructor(
    readonly audits: AuditInput[],
    readonly publicError: AppError,
  ) {
    super(publicError.message);
  }
}

export const FORBIDDEN_MESSAGE = "You don't have permission to do that.";

export function deny(
  caller: Caller,
  standing: Standing,
  tenantId: string | null,
  action: AuditAction,
  target: { type: string; id: string } | undefined,
  reason: string,
  publicError = new AppError("forbidden", FORBIDDEN_MESSAGE),
): Refusal {
  return new Refusal([refusalAudit(caller, standing, tenantId, { action, target, details: { reason } })], publicError);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The audit event for a refused change. It goes to the targeted tenant's chain when the caller
 * has standing there: a member, or a vendor admin (a tenant sees what the vendor's staff
 * tried). Anyone else, typically a member of another tenant, is recorded on the vendor chain
 * with ids only: their reason code, the targeted tenant and a target that is a UUID, never the
 * names or other text they sent. So an outsider can neither write into another tenant's trail
 * (and from there its SIEM) nor choose the words of an event.
 */
export function refusalAudit(
  caller: Caller,
  standing: Standing,
  tenantId: string | null,
  attempt: { action: AuditAction; target?: { type: string; id: string }; details: AuditDetails & { reason: string } },
  hasStanding: boolean = standing.role !== null || standing.isVendorAdmin,
): AuditInput {
  const base = { actor: actorOf(caller, standing), action: attempt.action, outcome: "denied" as const, request: caller.request };
  if (hasStanding) return { ...base, tenantId, target: attempt.target, details: attempt.details };
  return {
    ...base,
    tenantId: null,
    target: attempt.target && UUID.test(attempt.target.id) ? attempt.target : undefined,
    details: { reason: attempt.details.reason, ...(tenantId ? { targetTenantId: tenantId } : {}) },
  };
}

/**
 * Runs a change in one transaction. A refusal found inside it rolls the transaction back and
 * is then recorded as denied event(s) in a transaction of its own, so the trail keeps it; the
 * caller gets the refusal's public error.
 */
export async function runAudited<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await getDb().$transaction(fn);
  } catch (error) {
    if (error instanceof Refusal) {
      await getDb().$transaction(async (tx) => {
        for (const audit of error.audits) await appendAuditEvent(tx, audit);
      });
      throw error.publicError;
    }
    throw error;
  }
}
