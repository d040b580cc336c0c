import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { parseGrantIds } from "./grant-ids";

/**
 * Sets the grant ids Custody keeps for a key (added after registration, or corrected): the
 * grants it retires when the tenant revokes access. Tenant admins; audited with the count only.
 */
export async function setKeyGrants(caller: Caller, input: { tenantId: string; kmsKeyId: string; grantIds: string }): Promise<{ grantIds: string[] }> {
  const grantIds = parseGrantIds(input.grantIds);
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyGrantsChanged, target: { type: "kms_key", id: input.kmsKeyId } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const key = await tx.kmsKey.findFirst({ where: { id: input.kmsKeyId, tenantId: input.tenantId }, select: { id: true, grantIds: true } });
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    await tx.kmsKey.update({ where: { id: key.id }, data: { grantIds } });
    const before = new Set(key.grantIds);
    await record({
      details: { grants: grantIds.length, added: grantIds.filter((id) => !before.has(id)).length, removed: key.grantIds.filter((id) => !grantIds.includes(id)).length },
    });
    return { grantIds };
  });
}

/**
 * Removes a key registered by mistake (wrong account, a key that does not exist, …): only a key
 * that never became usable — no tenant key is wrapped by it, so no data depends on it. A key
 * that wraps a tenant key is refused (it is needed to unwrap that tenant's data). Tenant admins;
 * the removal and any refusal are audited.
 */
export async function removeKmsKey(caller: Caller, input: { tenantId: string; kmsKeyId: string }): Promise<void> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRemoved, target: { type: "kms_key", id: input.kmsKeyId } };
  await tenantChange(caller, attempt, async ({ tx, deny, record }) => {
    // Locks the key row: a verification committing meanwhile (which would create a tenant key) waits or fails.
    const [key] = await tx.$queryRaw<Array<{ id: string; arn: string }>>`
      SELECT id, arn FROM kms_keys WHERE id = ${input.kmsKeyId}::uuid AND tenant_id = ${input.tenantId}::uuid FOR UPDATE`;
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    const wraps = await tx.tenantKey.count({ where: { kmsKeyId: key.id } });
    const primaryOf = await tx.tenant.count({ where: { primaryKmsKeyId: key.id } });
    if (wraps > 0 || primaryOf > 0) {
      throw deny("key wraps a tenant key",
        new AppError("conflict", "This key wraps a tenant key, so data depends on it: it cannot be removed. Revoke access instead, or keep it for unwrapping older data."));
    }
    await tx.kmsKey.delete({ where: { id: key.id } });
    await record({ details: { arn: key.arn } });
  });
}
