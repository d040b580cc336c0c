import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import { isUniqueViolation } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { getKms, KeyArnError, parseKeyArn } from "@/lib/kms";
import { actorOf, type Caller, deny, requireTenantRole, runAudited } from "@/lib/tenants/caller";

const GRANT_ID = /^[0-9a-f]{64}$/;

/**
 * A tenant admin registers their KMS key by ARN (optionally with the id of a grant they made
 * for Custody, so Custody can retire it on revocation). The key is pending until verified. An
 * ARN registered by another tenant is refused without saying which, and the attempt audited.
 */
export async function registerKmsKey(
  caller: Caller,
  input: { tenantId: string; arn: string; grantId?: string },
): Promise<{ kmsKeyId: string }> {
  const { partition } = getKms();
  let parsed;
  try {
    parsed = parseKeyArn(input.arn, partition);
  } catch (error) {
    if (error instanceof KeyArnError) throw new AppError("bad_request", error.message, { arn: [error.message] });
    throw error;
  }
  const grantId = input.grantId?.trim() || undefined;
  if (grantId && !GRANT_ID.test(grantId)) {
    throw new AppError("bad_request", "A grant id is 64 hexadecimal characters (GrantId in create-grant's output).", {
      grantId: ["Not a grant id."],
    });
  }

  try {
    return await runAudited(async (tx) => {
      const action = AUDIT_ACTIONS.keyRegistered;
      const standing = await requireTenantRole(tx, caller, input.tenantId, ["admin"], { action, target: { type: "kms_key", id: parsed.arn } });
      const existing = await tx.kmsKey.findUnique({ where: { arn: parsed.arn }, select: { tenantId: true } });
      if (existing?.tenantId === input.tenantId) {
        throw new AppError("conflict", "This key is already registered for this tenant.", { arn: ["Already registered."] });
      }
      if (existing) {
        throw deny(caller, standing, input.tenantId, action, { type: "kms_key", id: parsed.arn }, "key registered by another tenant",
          new AppError("conflict", "This key is already registered with Custody and cannot be registered again. Use a key of your own.", {
            arn: ["This key cannot be registered."],
          }),
        );
      }
      const key = await tx.kmsKey.create({
        data: {
          tenantId: input.tenantId,
          arn: parsed.arn,
          region: parsed.region,
          accountId: parsed.accountId,
          multiRegion: parsed.multiRegion,
          grantId: grantId ?? null,
          registeredById: caller.userId,
        },
      });
      await appendAuditEvent(tx, {
        tenantId: input.tenantId,
        actor: actorOf(caller, standing),
        action,
        target: { type: "kms_key", id: key.id },
        outcome: "success",
        request: caller.request,
        details: { arn: key.arn, grant: grantId ? "yes" : "no" },
      });
      return { kmsKeyId: key.id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      // Lost a race with another registration of the same ARN.
      throw new AppError("conflict", "This key is already registered with Custody and cannot be registered again.");
    }
    throw error;
  }
}
