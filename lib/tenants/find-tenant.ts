import "server-only";
import { getDb } from "@/lib/db";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { type Caller, grantsAccess } from "@/lib/authz";

export type TenantContext = { id: string; slug: string; name: string; role: TenantRoleName };

/** The tenant behind a console URL, if the caller is one of its members; otherwise null. */
export async function findTenantForMember(caller: Caller, slug: string): Promise<TenantContext | null> {
  const membership = await getDb().membership.findFirst({
    where: { userId: caller.userId, tenant: { slug }, ...grantsAccess() },
    select: { role: true, tenant: { select: { id: true, slug: true, name: true } } },
  });
  if (!membership) return null;
  return { ...membership.tenant, role: membership.role === "ADMIN" ? "admin" : "auditor" };
}
