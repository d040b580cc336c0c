import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { lockTenant } from "../verify-kms-key";

/** The tenant's rotation schedule: a new version every `days` days (null: off). Audited. */
export async function setRotationSchedule(caller: Caller, input: { tenantId: string; days: number | null }): Promise<{ days: number | null }> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.tenantKeyRotationScheduled, target: { type: "tenant", id: input.tenantId } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    await lockTenant(tx, input.tenantId);
    const before = await tx.tenant.findUniqueOrThrow({ where: { id: input.tenantId }, select: { keyRotationDays: true } });
    await tx.tenant.update({ where: { id: input.tenantId }, data: { keyRotationDays: input.days } });
    await record({ details: { days: input.days, previousDays: before.keyRotationDays } });
    return { days: input.days };
  });
}
