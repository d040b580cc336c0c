import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { type KeyDetails, keyRefOf, kmsProvider } from "@/lib/kms";

/**
 * Sets the revocation handles Custody keeps for a key, for providers that have them (AWS: the
 * grant ids, added after registration or corrected), which revocation acts on. Tenant admins;
 * audited with the counts only. A provider without handles: bad_request, nothing changes.
 */
export async function setKeyGrants(caller: Caller, input: { tenantId: string; kmsKeyId: string; grantIds: string }): Promise<{ grantIds: string[] }> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyGrantsChanged, target: { type: "kms_key", id: input.kmsKeyId } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const [row] = await tx.$queryRaw<Array<{ id: string; provider: string; key_ref: string; key_details: KeyDetails }>>`
      SELECT id, provider, key_ref, key_details FROM kms_keys WHERE id = ${input.kmsKeyId}::uuid AND tenant_id = ${input.tenantId}::uuid FOR UPDATE`;
    if (!row) throw new AppError("not_found", "That key is not registered for this tenant.");
    const key = keyRefOf({ provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details });
    const handles = kmsProvider(key.provider).revocation.handles;
    if (!handles) throw new AppError("bad_request", "Custody keeps no grant ids for keys of this provider.");
    const grantIds = handles.parse(input.grantIds);
    const previous = handles.read(key.details);
    await tx.kmsKey.update({ where: { id: row.id }, data: { keyDetails: handles.write(key.details, grantIds) } });
    const before = new Set(previous);
    await record({
      details: { grants: grantIds.length, added: grantIds.filter((id) => !before.has(id)).length, removed: previous.filter((id) => !grantIds.includes(id)).length },
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
    const [key] = await tx.$queryRaw<Array<{ id: string; provider: string; key_ref: string }>>`
      SELECT id, provider, key_ref FROM kms_keys WHERE id = ${input.kmsKeyId}::uuid AND tenant_id = ${input.tenantId}::uuid FOR UPDATE`;
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    const wraps = await tx.tenantKey.count({ where: { kmsKeyId: key.id } });
    const primaryOf = await tx.tenant.count({ where: { primaryKmsKeyId: key.id } });
    if (wraps > 0 || primaryOf > 0) {
      throw deny("key wraps a tenant key",
        new AppError("conflict", "This key wraps a tenant key, so data depends on it: it cannot be removed. Revoke access instead, or keep it for unwrapping older data."));
    }
    await tx.kmsKey.delete({ where: { id: key.id } });
    await record({ details: { provider: key.provider, keyRef: key.key_ref } });
  });
}
