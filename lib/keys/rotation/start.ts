import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { isUniqueViolation } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { keyRefOf, kmsClientFor, KMS_PROVIDERS } from "@/lib/kms";
import { lockTenant } from "../verify-kms-key";
import { NOT_FOUND } from "./shared";
import { runRotationInBackground } from "./worker";

export type StartOptions = {
  /** "background" (the console): the work starts at once in this process; "none": the caller (a test, the job) runs it. */
  work?: "background" | "none";
};

const ALREADY_OPEN = () =>
  new AppError("conflict", "A rotation is already under way for this tenant (or stopped on an error): resume it or roll it back first.");

/**
 * A tenant admin asks Custody to re-wrap every active tenant key `fromKmsKeyId` wraps under the
 * tenant's primary KMS key. Nothing is wrapped here: the rotation is recorded as running (and
 * audited), then a worker does one tenant key at a time (worker.ts).
 */
export async function startRotation(caller: Caller, input: { tenantId: string; fromKmsKeyId: string }, options: StartOptions = {}) {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRotationStarted, target: { type: "kms_key", id: input.fromKmsKeyId } };
  let rotationId: string;
  try {
    rotationId = await tenantChange(caller, attempt, async ({ tx, deny, record }) => {
      const tenant = await lockTenant(tx, input.tenantId);
      if (tenant.accessRevokedAt) throw deny("access revoked", new AppError("conflict", "Vendor access is revoked: restore it before rotating keys."));
      const from = await tx.kmsKey.findFirst({ where: { id: input.fromKmsKeyId, tenantId: input.tenantId } });
      if (!from) throw new AppError("not_found", "That key is not registered for this tenant.");
      const toId = tenant.primaryKmsKeyId;
      if (!toId) throw deny("no primary key", new AppError("conflict", "This tenant has no primary key to re-wrap under: verify a key first."));
      if (toId === from.id) throw deny("already primary", new AppError("conflict", "This key is the primary key: there is nothing to re-wrap."));
      const to = await tx.kmsKey.findUniqueOrThrow({ where: { id: toId } });
      const toRef = keyRefOf(to);
      if (!kmsClientFor(toRef).wrapTenantKey) {
        throw deny("provider cannot wrap", new AppError("conflict", `Custody cannot re-wrap existing tenant keys with ${KMS_PROVIDERS[toRef.provider].display.label}.`));
      }
      if (await tx.kmsKeyRotation.findFirst({ where: { tenantId: input.tenantId, state: { in: ["running", "failed"] } }, select: { id: true } })) {
        throw deny("rotation open", ALREADY_OPEN());
      }
      const total = await tx.tenantKey.count({ where: { tenantId: input.tenantId, kmsKeyId: from.id, status: "ACTIVE" } });
      if (total === 0) throw deny("nothing to re-wrap", new AppError("conflict", "No tenant key depends on this key: there is nothing to re-wrap."));
      const rotation = await tx.kmsKeyRotation.create({
        data: { tenantId: input.tenantId, fromKmsKeyId: from.id, toKmsKeyId: to.id, state: "running", total, startedById: caller.userId },
      });
      await record({
        target: { type: "kms_key_rotation", id: rotation.id },
        details: { fromKmsKeyId: from.id, fromProvider: from.provider, fromKeyRef: from.keyRef, toKmsKeyId: to.id, toProvider: to.provider, toKeyRef: to.keyRef, tenantKeys: total },
      });
      return rotation.id;
    });
  } catch (error) {
    // Two admins pressing at once: the partial unique index lets one rotation open.
    if (isUniqueViolation(error)) throw ALREADY_OPEN();
    throw error;
  }
  if ((options.work ?? "background") === "background") runRotationInBackground(rotationId);
  return { rotationId };
}

/** A rotation that stopped on an error runs again from where it stopped (audited as started, resumed). */
export async function resumeRotation(caller: Caller, input: { tenantId: string; rotationId: string }, options: StartOptions = {}) {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRotationStarted, target: { type: "kms_key_rotation", id: input.rotationId } };
  await tenantChange(caller, attempt, async ({ tx, deny, record }) => {
    const tenant = await lockTenant(tx, input.tenantId);
    const [rotation] = await tx.$queryRaw<Array<{ state: string; rewrapped: number; total: number }>>`
      SELECT state, rewrapped, total FROM kms_key_rotations WHERE id = ${input.rotationId}::uuid AND tenant_id = ${input.tenantId}::uuid FOR UPDATE`;
    if (!rotation) throw NOT_FOUND();
    if (rotation.state !== "failed") throw deny("not stopped", new AppError("conflict", "Only a rotation that stopped on an error can be resumed."));
    if (tenant.accessRevokedAt) throw deny("access revoked", new AppError("conflict", "Vendor access is revoked: restore it before rotating keys."));
    await tx.kmsKeyRotation.update({
      where: { id: input.rotationId },
      data: { state: "running", lastError: null, lastErrorKind: null, leaseOwner: null, leaseUntil: null, updatedAt: new Date() },
    });
    await record({ details: { resumed: true, rewrapped: rotation.rewrapped, total: rotation.total } });
  });
  if ((options.work ?? "background") === "background") runRotationInBackground(input.rotationId);
  return { rotationId: input.rotationId };
}
