import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { keyRefOf, kmsClientFor } from "@/lib/kms";
import { errorFields, log } from "@/lib/log";
import { announceRevocation } from "./revocation-channel";
import { lockTenant } from "./verify-kms-key";

export type RevokeResult = {
  revokedAt: Date;
  /** From the click reaching the server to the revocation committing. */
  tookMs: number;
  tenantKeys: number;
  /** What revocation did on each key's KMS side (AWS: each recorded grant retired, or why not). */
  kmsSide: Array<{ kmsKeyId: string; keyRef: string; item: string; done: boolean; message: string }>;
};

/**
 * One-click revocation of the vendor's access to a tenant's data. In one transaction the
 * tenant is marked revoked, every tenant key is marked revoked and the revocation is
 * announced to all instances (NOTIFY on commit); from then on every wrap and unwrap for the
 * tenant is refused. Afterwards, each key's provider does what it can on the KMS side (AWS: every grant the customer recorded is retired)
 * (best effort: the revocation does not depend on the KMS being reachable), each audited. Custody's
 * own refusal is immediate; AWS may take a few minutes to apply a retirement on its side.
 */
export async function revokeAccess(caller: Caller, input: { tenantId: string }): Promise<RevokeResult> {
  const started = performance.now();
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.accessRevoked, target: { type: "tenant", id: input.tenantId } };
  const { revokedAt, tenantKeys, keys, actor } = await tenantChange(caller, attempt, async ({ tx, actor, deny, record }) => {
    const tenant = await lockTenant(tx, input.tenantId);
    if (tenant.accessRevokedAt) {
      throw deny("already revoked", new AppError("conflict", `Access is already revoked (since ${tenant.accessRevokedAt.toISOString()}).`));
    }
    const revokedAt = new Date();
    await tx.tenant.update({ where: { id: input.tenantId }, data: { accessRevokedAt: revokedAt, accessRevokedById: caller.userId } });
    const { count: tenantKeys } = await tx.tenantKey.updateMany({
      where: { tenantId: input.tenantId, status: "ACTIVE" },
      data: { status: "REVOKED", revokedAt },
    });
    // Keys that were usable become revoked; a pending key (never usable) stays pending.
    await tx.kmsKey.updateMany({
      where: { tenantId: input.tenantId, status: { in: ["ACTIVE", "PREVIOUS", "ERROR"] } },
      data: { status: "REVOKED", revokedAt },
    });
    const keys = await tx.kmsKey.findMany({ where: { tenantId: input.tenantId }, select: { id: true, provider: true, keyRef: true, keyDetails: true } });
    await record({ details: { tenantKeys } });
    await announceRevocation(tx, input.tenantId);
    return { revokedAt, tenantKeys, keys, actor };
  });
  const tookMs = Math.round(performance.now() - started);

  const kmsSide: RevokeResult["kmsSide"] = [];
  for (const row of keys) {
    const key = keyRefOf(row);
    const client = kmsClientFor(key);
    if (!client.revokeAccess) continue;
    const actions = await client.revokeAccess(key).catch((error: unknown) => {
      log.error({ kmsKeyId: row.id, ...errorFields(error) }, "KMS-side revocation failed unexpectedly");
      return [];
    });
    for (const action of actions) {
      kmsSide.push({ kmsKeyId: row.id, keyRef: key.ref, item: action.item, done: action.done, message: action.message });
      await recordAuditEvent({
        tenantId: input.tenantId,
        actor,
        action: AUDIT_ACTIONS.keyGrantRetired,
        target: { type: "kms_key", id: row.id },
        outcome: action.done ? "success" : "failure",
        request: caller.request,
        details: { provider: key.provider, keyRef: key.ref, ...action.auditDetails, ...(action.done ? {} : { reason: action.reason ?? "unexpected" }) },
      });
    }
  }
  return { revokedAt, tookMs, tenantKeys, kmsSide };
}
