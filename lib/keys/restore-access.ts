import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent, recordAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { getKms, isKmsError } from "@/lib/kms";
import { actorOf, type Caller, deny, requireTenantRole, runAudited } from "@/lib/authz";
import { announceKeyState } from "./revocation-channel";
import { lockTenant } from "./verify-kms-key";
import { runVerifySteps, type VerifyStep } from "./verify-steps";

export type RestoreResult = { restored: boolean; steps: VerifyStep[] };

/**
 * Lifts a console revocation, deliberately: it runs a fresh verification of the tenant's primary
 * KMS key and restores only if that succeeds (the customer may have disabled the key meanwhile).
 * The tenant keys revoked by that revocation become usable again, so data wrapped before it can
 * be read; a failed attempt changes nothing and is audited.
 */
export async function restoreAccess(caller: Caller, input: { tenantId: string }): Promise<RestoreResult> {
  const action = AUDIT_ACTIONS.accessRestored;
  const { key, actor } = await runAudited(async (tx) => {
    const standing = await requireTenantRole(tx, caller, input.tenantId, ["admin"], { action, target: { type: "tenant", id: input.tenantId } });
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: input.tenantId }, include: { primaryKmsKey: true } });
    if (!tenant.accessRevokedAt) {
      throw deny(caller, standing, input.tenantId, action, { type: "tenant", id: input.tenantId }, "not revoked",
        new AppError("conflict", "Access is not revoked; there is nothing to restore."));
    }
    if (!tenant.primaryKmsKey) {
      throw new AppError("conflict", "This tenant has no verified KMS key to restore access with. Register and verify a key.");
    }
    return { key: tenant.primaryKmsKey, actor: actorOf(caller, standing) };
  });

  const outcome = await runVerifySteps(getKms().provider, key.arn, input.tenantId);
  if (!outcome.ok) {
    await recordAuditEvent({
      tenantId: input.tenantId,
      actor,
      action,
      target: { type: "tenant", id: input.tenantId },
      outcome: "failure",
      request: caller.request,
      details: { step: outcome.failedStep, reason: "kind" in outcome.error ? String(outcome.error.kind) : "unsuitable_key" },
    });
    await getDb().kmsKey.update({
      where: { id: key.id },
      data: {
        lastAttemptAt: new Date(),
        lastAttemptOk: false,
        lastVerifySteps: outcome.steps,
        lastError: outcome.steps.find((s) => !s.ok)?.message ?? null,
        lastErrorAt: new Date(),
        lastErrorKind: isKmsError(outcome.error) ? outcome.error.kind : "unsuitable_key",
      },
    });
    return { restored: false, steps: outcome.steps };
  }

  await getDb().$transaction(async (tx) => {
    await requireTenantRole(tx, caller, input.tenantId, ["admin"], { action });
    const tenant = await lockTenant(tx, input.tenantId);
    if (!tenant.accessRevokedAt) throw new AppError("conflict", "Access was restored meanwhile.");
    const now = new Date();
    await tx.tenant.update({ where: { id: input.tenantId }, data: { accessRevokedAt: null, accessRevokedById: null } });
    const { count: tenantKeys } = await tx.tenantKey.updateMany({
      where: { tenantId: input.tenantId, status: "REVOKED", revokedAt: tenant.accessRevokedAt },
      data: { status: "ACTIVE", revokedAt: null },
    });
    await tx.kmsKey.updateMany({
      where: { tenantId: input.tenantId, status: "REVOKED", revokedAt: tenant.accessRevokedAt, id: { not: key.id } },
      data: { status: "PREVIOUS", revokedAt: null },
    });
    await tx.kmsKey.update({
      where: { id: key.id },
      data: {
        status: "ACTIVE",
        revokedAt: null,
        lastVerifiedAt: now,
        lastAttemptAt: now,
        lastAttemptOk: true,
        lastVerifySteps: outcome.steps,
        lastError: null,
        lastErrorAt: null,
        lastErrorKind: null,
      },
    });
    await appendAuditEvent(tx, {
      tenantId: input.tenantId,
      actor,
      action,
      target: { type: "tenant", id: input.tenantId },
      outcome: "success",
      request: caller.request,
      details: { arn: key.arn, tenantKeys, revokedSince: tenant.accessRevokedAt.toISOString() },
    });
    await announceKeyState(tx, input.tenantId);
  });
  return { restored: true, steps: outcome.steps };
}
