import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { isUniqueViolation } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { getKms, KeyArnError, parseKeyArn } from "@/lib/kms";
import { parseGrantIds } from "./grant-ids";

/**
 * A tenant admin registers their KMS key by ARN (optionally with the ids of the grants they made
 * for Custody, so Custody can retire them on revocation; they can be added later too). The key
 * is pending until verified. A registration proves nothing about who controls the key, so an
 * ARN is refused only when another tenant has *verified* it (without saying which, and the
 * attempt audited): a pending registration cannot block the key's owner (issue 13).
 */
export async function registerKmsKey(
  caller: Caller,
  input: { tenantId: string; arn: string; grantIds?: string },
): Promise<{ kmsKeyId: string }> {
  const { partition } = getKms();
  let parsed;
  try {
    parsed = parseKeyArn(input.arn, partition);
  } catch (error) {
    if (error instanceof KeyArnError) throw new AppError("bad_request", error.message, { arn: [error.message] });
    throw error;
  }
  const grantIds = parseGrantIds(input.grantIds);

  try {
    const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRegistered, target: { type: "kms_key", id: parsed.arn } };
    return await tenantChange(caller, attempt, async ({ tx, deny, record }) => {
      const mine = await tx.kmsKey.findFirst({ where: { arn: parsed.arn, tenantId: input.tenantId }, select: { id: true } });
      if (mine) {
        throw new AppError("conflict", "This key is already registered for this tenant.", { arn: ["Already registered."] });
      }
      const verifiedElsewhere = await tx.kmsKey.findFirst({
        where: { arn: parsed.arn, tenantId: { not: input.tenantId }, status: { not: "PENDING_VERIFICATION" } },
        select: { id: true },
      });
      if (verifiedElsewhere) {
        throw deny("key verified by another tenant",
          new AppError("conflict", "This key is already in use with Custody and cannot be registered again. Use a key of your own.", {
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
          grantIds,
          registeredById: caller.userId,
        },
      });
      await record({ target: { type: "kms_key", id: key.id }, details: { arn: key.arn, grants: grantIds.length } });
      return { kmsKeyId: key.id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", "This key is already in use with Custody and cannot be registered again.");
    }
    throw error;
  }
}
