import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { isKmsError, keyRefOf, kmsClientFor } from "@/lib/kms";
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
  const attempt = { tenantId: input.tenantId, action, target: { type: "tenant", id: input.tenantId } };
  const { key, actor } = await tenantChange(caller, attempt, async ({ tx, actor, deny }) => {
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: input.tenantId }, include: { primaryKmsKey: true } });
    if (!tenant.accessRevokedAt) throw deny("not revoked", new AppError("conflict", "Access is not revoked; there is nothing to restore."));
    if (!tenant.primaryKmsKey) {
      throw new AppError("conflict", "This tenant has no verified KMS key to restore access with. Register and verify a key.");
    }
    return { key: tenant.primaryKmsKey, actor };
  });

  const keyRef = keyRefOf(key);
  const outcome = await runVerifySteps(kmsClientFor(keyRef), keyRef, input.tenantId);
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

  await tenantChange(caller, attempt, async ({ tx, record }) => {
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
    await record({ details: { provider: key.provider, keyRef: key.keyRef, tenantKeys, revokedSince: tenant.accessRevokedAt.toISOString() } });
    await announceKeyState(tx, input.tenantId);
  });
  return { restored: true, steps: outcome.steps };
}
