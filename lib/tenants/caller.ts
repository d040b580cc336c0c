import "server-only";
import type { AuditAction } from "@/lib/audit/actions";
import { type Actor, type AuditDetails, type AuditInput, recordAuditEvent } from "@/lib/audit/trail/append";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { TenantRoleName } from "@/lib/validation/tenants";

/** Who is acting, as the data layer sees it: a signed-in user and their request. */
export type Caller = { userId: string; request: RequestMeta };

export type Standing = {
  email: string;
  isVendorAdmin: boolean;
  /** The caller's role in the tenant asked about, or null when not a member. */
  role: TenantRoleName | null;
};

/** A refusal to be audited once the transaction that discovered it has rolled back. */
export class Denied extends Error {
  constructor(
    readonly audit: AuditInput,
    readonly publicError: AppError,
  ) {
    super(publicError.message);
  }
}

export async function standingOf(tx: Tx, userId: string, tenantId: string | null): Promise<Standing> {
  const user = await tx.user.findUnique({
    where: { id: userId },
    select: {
      email: true,
      vendorAdmin: { select: { userId: true } },
      memberships: tenantId ? { where: { tenantId }, select: { role: true } } : false,
    },
  });
  if (!user) throw new AppError("unauthenticated", "Your session has ended. Sign in again.");
  const membership = user.memberships?.[0];
  return {
    email: user.email,
    isVendorAdmin: user.vendorAdmin !== null,
    role: membership ? (membership.role === "ADMIN" ? "admin" : "auditor") : null,
  };
}

/** The audit actor for a caller acting in a tenant: a member acts as a user, anyone else with rights as the vendor. */
export function actorOf(caller: Caller, standing: Standing): Actor {
  return standing.role === null && standing.isVendorAdmin
    ? { type: "vendor_admin", id: caller.userId, label: standing.email }
    : { type: "user", id: caller.userId, label: standing.email };
}

export function deny(
  caller: Caller,
  standing: Standing,
  tenantId: string | null,
  action: AuditAction,
  target: { type: string; id: string } | undefined,
  reason: string,
  publicError = new AppError("forbidden", "You don't have permission to do that."),
): Denied {
  return new Denied(refusalAudit(caller, standing, tenantId, { action, target, details: { reason } }), publicError);
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
 * is then recorded as a denied event in its own transaction, so the trail keeps it.
 */
export async function runAudited<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await getDb().$transaction(fn);
  } catch (error) {
    if (error instanceof Denied) {
      await recordAuditEvent(error.audit);
      throw error.publicError;
    }
    throw error;
  }
}

/** Requires one of `roles` in the tenant (or vendor admin where "vendor" is listed), else denies. */
export async function requireTenantRole(
  tx: Tx,
  caller: Caller,
  tenantId: string,
  roles: Array<TenantRoleName | "vendor">,
  attempted: { action: AuditAction; target?: { type: string; id: string } },
): Promise<Standing> {
  const standing = await standingOf(tx, caller.userId, tenantId);
  const allowed =
    (standing.role !== null && roles.includes(standing.role)) || (standing.isVendorAdmin && roles.includes("vendor"));
  if (allowed) return standing;
  const tenantExists = (await tx.tenant.count({ where: { id: tenantId } })) > 0;
  throw deny(
    caller,
    standing,
    tenantExists ? tenantId : null,
    attempted.action,
    attempted.target ?? { type: "tenant", id: tenantId },
    standing.role === null ? "not a member of this tenant" : `role ${standing.role} may not do this`,
  );
}
