import "server-only";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/authz";

export type TenantSummary = {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
  memberCount: number;
  adminEmails: string[];
  lastActivityAt: Date | null;
  /** The vendor's view of the tenant's key: none yet, pending, active, error, or revoked by the tenant. */
  keyState: "none" | "pending" | "active" | "error" | "revoked";
  accessRevokedAt: Date | null;
  /**
   * The tenant's last verification of some key failed on the vendor's side (Custody's own
   * role has no IAM policy for the call, its credentials, or the network path to KMS): the
   * vendor has something to fix. Cleared by that key's next successful verification.
   */
  vendorSideFailure: boolean;
};

/** Verification failures that are the vendor's to fix (lib/kms/errors.ts kinds). */
export const VENDOR_SIDE_FAILURES = ["access_denied_vendor", "credentials", "bad_response"];

/** Every tenant, for vendor admins only. */
export async function listTenants(caller: Caller): Promise<TenantSummary[]> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see the tenant list.");

  const tenants = await db.tenant.findMany({
    orderBy: { name: "asc" },
    include: {
      _count: { select: { memberships: true, kmsKeys: true } },
      primaryKmsKey: { select: { status: true } },
      kmsKeys: { where: { lastAttemptOk: false, lastErrorKind: { in: VENDOR_SIDE_FAILURES } }, select: { id: true }, take: 1 },
      memberships: {
        where: { role: "ADMIN" },
        select: { user: { select: { email: true } } },
        orderBy: { createdAt: "asc" },
      },
    },
  });
  const last = await db.auditEvent.groupBy({
    by: ["tenantId"],
    where: { tenantId: { in: tenants.map((t) => t.id) } },
    _max: { occurredAt: true },
  });
  const lastByTenant = new Map(last.map((row) => [row.tenantId, row._max.occurredAt]));
  return tenants.map((t) => ({
    id: t.id,
    slug: t.slug,
    name: t.name,
    createdAt: t.createdAt,
    memberCount: t._count.memberships,
    adminEmails: t.memberships.map((m) => m.user.email),
    lastActivityAt: lastByTenant.get(t.id) ?? null,
    keyState: t.accessRevokedAt
      ? "revoked"
      : t.primaryKmsKey
        ? t.primaryKmsKey.status === "ERROR"
          ? "error"
          : "active"
        : t._count.kmsKeys > 0
          ? "pending"
          : "none",
    accessRevokedAt: t.accessRevokedAt,
    vendorSideFailure: t.kmsKeys.length > 0,
  }));
}
