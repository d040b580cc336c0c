import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { getKms, isKmsError } from "@/lib/kms";
import { announceRevocation } from "./revocation-channel";
import { lockTenant } from "./verify-kms-key";

export type RevokeResult = {
  revokedAt: Date;
  /** From the click reaching the server to the revocation committing. */
  tookMs: number;
  tenantKeys: number;
  /** Every grant Custody was given, each retired (or why not). */
  grants: Array<{ kmsKeyArn: string; grantId: string; retired: boolean; message: string }>;
};

/**
 * One-click revocation of the vendor's access to a tenant's data. In one transaction the
 * tenant is marked revoked, every tenant key is marked revoked and the revocation is
 * announced to all instances (NOTIFY on commit); from then on every wrap and unwrap for the
 * tenant is refused. Afterwards, every grant the customer gave Custody (on every key) is retired
 * (best effort: the revocation does not depend on the KMS being reachable), each audited. Custody's
 * own refusal is immediate; AWS may take a few minutes to apply a retirement on its side.
 */
export async function revokeAccess(caller: Caller, input: { tenantId: string }): Promise<RevokeResult> {
  const started = performance.now();
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.accessRevoked, target: { type: "tenant", id: input.tenantId } };
  const { revokedAt, tenantKeys, grantsToRetire, actor } = await tenantChange(caller, attempt, async ({ tx, actor, deny, record }) => {
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
    const keysWithGrants = await tx.kmsKey.findMany({
      where: { tenantId: input.tenantId, NOT: { grantIds: { isEmpty: true } } },
      select: { id: true, arn: true, grantIds: true },
    });
    const grantsToRetire = keysWithGrants.flatMap((key) => key.grantIds.map((grantId) => ({ id: key.id, arn: key.arn, grantId })));
    await record({ details: { tenantKeys } });
    await announceRevocation(tx, input.tenantId);
    return { revokedAt, tenantKeys, grantsToRetire, actor };
  });
  const tookMs = Math.round(performance.now() - started);

  const grants: RevokeResult["grants"] = [];
  for (const key of grantsToRetire) {
    let retired = false;
    let message = "Grant retired.";
    let reason = "";
    try {
      await getKms().provider.retireGrant(key.arn, key.grantId);
      retired = true;
    } catch (error) {
      message = isKmsError(error) ? error.message : "Could not retire the grant.";
      reason = isKmsError(error) ? error.kind : "unexpected";
    }
    grants.push({ kmsKeyArn: key.arn, grantId: key.grantId, retired, message });
    await recordAuditEvent({
      tenantId: input.tenantId,
      actor,
      action: AUDIT_ACTIONS.keyGrantRetired,
      target: { type: "kms_key", id: key.id },
      outcome: retired ? "success" : "failure",
      request: caller.request,
      details: retired ? { arn: key.arn, grantId: key.grantId } : { arn: key.arn, grantId: key.grantId, reason },
    });
  }
  return { revokedAt, tookMs, tenantKeys, grants };
}
