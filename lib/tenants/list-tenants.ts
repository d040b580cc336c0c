import "server-only";
import { type Caller, standingOf } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";

export type TenantSummary = { id: string; slug: string; name: string };

/**
 * Every tenant by name, for vendor admins only: what a picker needs (a credential's tenant).
 * The fleet's table, with each tenant's health, is lib/fleet.
 */
export async function listTenants(caller: Caller): Promise<TenantSummary[]> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see the tenant list.");
  return db.tenant.findMany({ orderBy: { name: "asc" }, select: { id: true, slug: true, name: true } });
}
