import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { getConfig } from "@/lib/config";
import { isUniqueViolation } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { kmsProvider } from "@/lib/kms";
import { parseInput } from "@/lib/validation/parse";

/**
 * A tenant admin registers their KMS key: they choose the provider and fill in its fields (AWS:
 * its key reference, optionally the ids of the grants they made for Custody, so Custody can retire
 * them on revocation). The provider validates them into its canonical key reference; bad input
 * gets the provider's message by field and stores nothing. The key is pending until verified. A
 * registration proves nothing about who controls the key, so a reference is refused only when
 * another tenant has *verified* it (without saying which, and the attempt audited): a pending
 * registration cannot block the key's owner (issue 13).
 */
export async function registerKmsKey(
  caller: Caller,
  input: { tenantId: string; provider: string; fields: Readonly<Record<string, string | undefined>> },
): Promise<{ kmsKeyId: string }> {
  const definition = kmsProvider(input.provider);
  const config = getConfig();
  if (!definition.configured(config)) {
    throw new AppError("bad_request", `This Custody deployment is not set up for ${definition.display.label}.`, { provider: ["Choose another KMS provider."] });
  }
  const parsed = parseInput(definition.registration.schema(config), input.fields);
  const provider = definition.name;
  const firstField = definition.registration.fields[0]?.name ?? "form";

  try {
    const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyRegistered, target: { type: "kms_key", id: parsed.ref } };
    return await tenantChange(caller, attempt, async ({ tx, deny, record }) => {
      const mine = await tx.kmsKey.findFirst({ where: { provider, keyRef: parsed.ref, tenantId: input.tenantId }, select: { id: true } });
      if (mine) {
        throw new AppError("conflict", "This key is already registered for this tenant.", { [firstField]: ["Already registered."] });
      }
      const verifiedElsewhere = await tx.kmsKey.findFirst({
        where: { provider, keyRef: parsed.ref, tenantId: { not: input.tenantId }, status: { not: "PENDING_VERIFICATION" } },
        select: { id: true },
      });
      if (verifiedElsewhere) {
        throw deny("key verified by another tenant",
          new AppError("conflict", "This key is already in use with Custody and cannot be registered again. Use a key of your own.", {
            [firstField]: ["This key cannot be registered."],
          }),
        );
      }
      const key = await tx.kmsKey.create({
        data: { tenantId: input.tenantId, provider, keyRef: parsed.ref, keyDetails: parsed.details, registeredById: caller.userId },
      });
      const handles = definition.revocation.handles?.read(parsed.details).length ?? 0;
      await record({ target: { type: "kms_key", id: key.id }, details: { provider, keyRef: key.keyRef, grants: handles } });
      return { kmsKeyId: key.id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", "This key is already in use with Custody and cannot be registered again.");
    }
    throw error;
  }
}
