import "server-only";
import type { Actor } from "@/lib/audit/trail/append";
import type { Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { grantsAccess } from "./membership";

/** Who is acting, as the data layer sees it: a signed-in user and their request. */
export type Caller = { userId: string; request: RequestMeta };

export type Standing = {
  email: string;
  isVendorAdmin: boolean;
  /** The caller's role in the tenant asked about, or null when not a member. */
  role: TenantRoleName | null;
};

export async function standingOf(tx: Tx, userId: string, tenantId: string | null): Promise<Standing> {
  const user = await tx.user.findUnique({
    where: { id: userId },
    select: {
      email: true,
      vendorAdmin: { select: { userId: true } },
      memberships: tenantId ? { where: { tenantId, ...grantsAccess() }, select: { role: true } } : false,
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
