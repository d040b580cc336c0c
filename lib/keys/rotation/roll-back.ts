import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { announceKeyState } from "../revocation-channel";
import { NOT_FOUND } from "./shared";

/**
 * Undoes a rotation that stopped on an error: every tenant key it re-wrapped gets back the
 * wrapped form and KMS key it had (kept in the row), in one transaction, without any KMS call,
 * so the tenant is never without a working key whatever state the KMS is in.
 */
export async function rollBackRotation(caller: Caller, input: { tenantId: string; rotationId: string }) {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRotationRolledBack, target: { type: "kms_key_rotation", id: input.rotationId } };
  return tenantChange(caller, attempt, async ({ tx, deny, record }) => {
    // Locks the rotation's row first, as a worker's commit does: a re-wrap and a roll back never interleave.
    const [rotation] = await tx.$queryRaw<Array<{ state: string; from_kms_key_id: string; to_kms_key_id: string }>>`
      SELECT state, from_kms_key_id::text, to_kms_key_id::text FROM kms_key_rotations
       WHERE id = ${input.rotationId}::uuid AND tenant_id = ${input.tenantId}::uuid FOR UPDATE`;
    if (!rotation) throw NOT_FOUND();
    if (rotation.state !== "failed") {
      throw deny("not stopped", new AppError("conflict", "Only a rotation that stopped on an error can be rolled back."));
    }
    const restored = await tx.$executeRaw`
      UPDATE tenant_keys
         SET wrapped_key = previous_wrapped_key, kms_key_id = previous_kms_key_id, previous_wrapped_key = NULL, previous_kms_key_id = NULL
       WHERE tenant_id = ${input.tenantId}::uuid AND previous_kms_key_id = ${rotation.from_kms_key_id}::uuid
         AND kms_key_id = ${rotation.to_kms_key_id}::uuid AND previous_wrapped_key IS NOT NULL`;
    await tx.kmsKeyRotation.update({ where: { id: input.rotationId }, data: { state: "rolled_back", finishedAt: new Date(), updatedAt: new Date() } });
    await announceKeyState(tx, input.tenantId);
    await record({ details: { fromKmsKeyId: rotation.from_kms_key_id, toKmsKeyId: rotation.to_kms_key_id, restored } });
    return { restored };
  });
}
