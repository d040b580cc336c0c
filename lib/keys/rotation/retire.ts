import "server-only";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { AppError } from "@/lib/errors";
import { keyRefOf, kmsClientFor } from "@/lib/kms";
import { errorFields, log } from "@/lib/log";
import { announceKeyState } from "../revocation-channel";
import { lockTenant } from "../verify-kms-key";
import { dependentsOf } from "./shared";

export type RetireResult = {
  retiredAt: Date;
  /** What was done on the key's KMS side (AWS: each grant Custody was given retired, or why not); empty: nothing to do there. */
  kmsSide: Array<{ item: string; done: boolean; message: string }>;
};

/**
 * Retires a KMS key nothing depends on any more: its state becomes `retired` and Custody never
 * uses it again (the key service reads only active, previous keys; verify refuses it). Refused
 * for the primary key, while any tenant key needs it, or while a rotation involving it is open.
 * Afterwards the provider removes what it can of Custody's access (AWS: retires the grants the
 * customer recorded), each step audited.
 */
export async function retireKmsKey(caller: Caller, input: { tenantId: string; kmsKeyId: string }): Promise<RetireResult> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRetired, target: { type: "kms_key", id: input.kmsKeyId } };
  const { key, retiredAt, actor } = await tenantChange(caller, attempt, async ({ tx, actor, deny, record }) => {
    const tenant = await lockTenant(tx, input.tenantId);
    const key = await tx.kmsKey.findFirst({ where: { id: input.kmsKeyId, tenantId: input.tenantId } });
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    if (key.status === "RETIRED") throw deny("already retired", new AppError("conflict", "This key is already retired."));
    if (key.status === "PENDING_VERIFICATION") {
      throw deny("never used", new AppError("conflict", "This key never became usable: remove it instead of retiring it."));
    }
    if (tenant.primaryKmsKeyId === key.id) {
      throw deny("primary key", new AppError("conflict", "This is the primary key: make another key primary and re-wrap under it first."));
    }
    const dependents = await dependentsOf(tx, input.tenantId, key.id);
    if (dependents > 0) {
      throw deny(
        "key in use",
        new AppError("conflict", `${dependents} tenant key${dependents === 1 ? " still depends" : "s still depend"} on this key: re-wrap ${dependents === 1 ? "it" : "them"} under the primary key first.`),
      );
    }
    const open = await tx.kmsKeyRotation.findFirst({
      where: { tenantId: input.tenantId, state: { in: ["running", "failed"] }, OR: [{ fromKmsKeyId: key.id }, { toKmsKeyId: key.id }] },
      select: { id: true },
    });
    if (open) throw deny("rotation open", new AppError("conflict", "A rotation involving this key is not finished: let it complete or roll it back first."));
    const retiredAt = new Date();
    await tx.kmsKey.update({ where: { id: key.id }, data: { status: "RETIRED", retiredAt } });
    await record({ details: { provider: key.provider, keyRef: key.keyRef } });
    await announceKeyState(tx, input.tenantId);
    return { key, retiredAt, actor };
  });

  const ref = keyRefOf(key);
  const client = kmsClientFor(ref);
  const kmsSide: RetireResult["kmsSide"] = [];
  if (client.revokeAccess) {
    const actions = await client.revokeAccess(ref).catch((error: unknown) => {
      log.error({ kmsKeyId: key.id, ...errorFields(error) }, "KMS-side retirement failed unexpectedly");
      return [];
    });
    for (const action of actions) {
      kmsSide.push({ item: action.item, done: action.done, message: action.message });
      await recordAuditEvent({
        tenantId: input.tenantId,
        actor,
        action: AUDIT_ACTIONS.keyGrantRetired,
        target: { type: "kms_key", id: key.id },
        outcome: action.done ? "success" : "failure",
        request: caller.request,
        details: { provider: ref.provider, keyRef: ref.ref, ...action.auditDetails, ...(action.done ? {} : { reason: action.reason ?? "unexpected" }) },
      });
    }
  }
  return { retiredAt, kmsSide };
}
