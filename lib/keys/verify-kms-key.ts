import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { getKms } from "@/lib/kms";
import { errorFields, log } from "@/lib/log";
import { actorOf, type Caller, requireTenantRole, runAudited } from "@/lib/tenants/caller";
import { announceKeyState } from "./revocation-channel";
import { runVerifySteps, type VerifyOutcome, type VerifyStep } from "./verify-steps";

export type VerifyResult = { ok: boolean; steps: VerifyStep[]; becamePrimary: boolean; accessRevoked: boolean };

/** Loads a tenant's KMS key for a tenant admin (refusals audited), outside any KMS call. */
export async function keyForAdmin(caller: Caller, tenantId: string, kmsKeyId: string, action: Parameters<typeof requireTenantRole>[4]["action"]) {
  return runAudited(async (tx) => {
    await requireTenantRole(tx, caller, tenantId, ["admin"], { action, target: { type: "kms_key", id: kmsKeyId } });
    const key = await tx.kmsKey.findFirst({ where: { id: kmsKeyId, tenantId } });
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    return key;
  });
}

/**
 * Runs the live round trip against the tenant's KMS key and records it. Success creates a new
 * tenant key (wrapped by this KMS key) and makes this key the tenant's primary, unless the
 * tenant's access is revoked: then only the result is recorded, and restoring is a separate act.
 * The KMS calls run outside any database transaction.
 */
export async function verifyKmsKey(caller: Caller, input: { tenantId: string; kmsKeyId: string }): Promise<VerifyResult> {
  const key = await keyForAdmin(caller, input.tenantId, input.kmsKeyId, AUDIT_ACTIONS.keyVerified);
  const outcome = await runVerifySteps(getKms().provider, key.arn, input.tenantId);
  if (!outcome.ok && !("kind" in outcome.error)) log.error({ kmsKeyId: key.id, ...errorFields(outcome.error) }, "key verification failed unexpectedly");

  return getDb().$transaction(async (tx) => {
    const standing = await requireTenantRole(tx, caller, input.tenantId, ["admin"], { action: AUDIT_ACTIONS.keyVerified });
    const tenant = await lockTenant(tx, input.tenantId);
    const actor = actorOf(caller, standing);
    const accessRevoked = tenant.accessRevokedAt !== null;
    const now = new Date();

    if (!outcome.ok) {
      await tx.kmsKey.update({
        where: { id: key.id },
        data: {
          lastVerifiedAt: now,
          lastVerifySteps: outcome.steps,
          lastError: outcome.steps.find((s) => !s.ok)?.message ?? null,
          lastErrorAt: now,
          ...(key.status === "REVOKED" ? {} : { status: "ERROR" }),
        },
      });
      await appendAuditEvent(tx, {
        tenantId: input.tenantId,
        actor,
        action: AUDIT_ACTIONS.keyVerifyFailed,
        target: { type: "kms_key", id: key.id },
        outcome: "failure",
        request: caller.request,
        details: { step: outcome.failedStep, reason: "kind" in outcome.error ? String(outcome.error.kind) : "unsuitable_key" },
      });
      return { ok: false, steps: outcome.steps, becamePrimary: false, accessRevoked };
    }

    await tx.kmsKey.update({
      where: { id: key.id },
      data: { lastVerifiedAt: now, lastVerifySteps: outcome.steps, lastError: null, lastErrorAt: null, ...(accessRevoked ? {} : { status: "ACTIVE" }) },
    });
    await appendAuditEvent(tx, {
      tenantId: input.tenantId,
      actor,
      action: AUDIT_ACTIONS.keyVerified,
      target: { type: "kms_key", id: key.id },
      outcome: "success",
      request: caller.request,
      details: { arn: key.arn },
    });
    if (accessRevoked) return { ok: true, steps: outcome.steps, becamePrimary: false, accessRevoked };

    await makePrimary(tx, input.tenantId, key.id, tenant.primaryKmsKeyId, outcome.wrappedTenantKey);
    await appendAuditEvent(tx, {
      tenantId: input.tenantId,
      actor,
      action: AUDIT_ACTIONS.accessGranted,
      target: { type: "kms_key", id: key.id },
      outcome: "success",
      request: caller.request,
      details: { arn: key.arn, primary: true },
    });
    return { ok: true, steps: outcome.steps, becamePrimary: true, accessRevoked };
  });
}

/**
 * Locks the tenant row against other key changes. NO KEY UPDATE, not UPDATE: inserting an audit
 * event takes a KEY SHARE lock on its tenant (the foreign key), and an appender holding the
 * chain head must not wait on us while we wait on the chain head (a deadlock).
 */
export async function lockTenant(tx: Tx, tenantId: string) {
  const [tenant] = await tx.$queryRaw<Array<{ primary_kms_key_id: string | null; access_revoked_at: Date | null }>>`
    SELECT primary_kms_key_id, access_revoked_at FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`;
  if (!tenant) throw new AppError("not_found", "No such tenant.");
  return { primaryKmsKeyId: tenant.primary_kms_key_id, accessRevokedAt: tenant.access_revoked_at };
}

/** Stores the new tenant key and moves the tenant's primary to this KMS key; the old primary stays valid for unwraps. */
export async function makePrimary(tx: Tx, tenantId: string, kmsKeyId: string, previousPrimary: string | null, wrappedTenantKey: Buffer) {
  await tx.tenantKey.create({ data: { tenantId, kmsKeyId, wrappedKey: new Uint8Array(wrappedTenantKey) } });
  if (previousPrimary && previousPrimary !== kmsKeyId) {
    await tx.kmsKey.update({ where: { id: previousPrimary }, data: { status: "PREVIOUS" } });
  }
  await tx.kmsKey.update({ where: { id: kmsKeyId }, data: { status: "ACTIVE" } });
  await tx.tenant.update({ where: { id: tenantId }, data: { primaryKmsKeyId: kmsKeyId } });
  await announceKeyState(tx, tenantId);
}

export type { VerifyOutcome };
