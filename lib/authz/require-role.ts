import "server-only";
import type { AuditAction } from "@/lib/audit/actions";
import type { Tx } from "@/lib/db";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { type Caller, type Standing, standingOf } from "./caller";
import { deny } from "./refusal";

export type Target = { type: string; id: string };

/** Requires one of `roles` in the tenant (or vendor admin where "vendor" is listed), else denies. */
export async function requireTenantRole(
  tx: Tx,
  caller: Caller,
  tenantId: string,
  roles: Array<TenantRoleName | "vendor">,
  attempted: { action: AuditAction; target?: Target },
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
