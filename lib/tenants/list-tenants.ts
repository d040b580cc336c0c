import "server-only";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "./caller";

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
};

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
  }));
}
