import "server-only";
import type { AuditAction } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type Caller, type Standing, standingOf } from "@/lib/authz";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { credentialDetails, lockCredentialName, refuse, scopesFromDb, TARGET_TYPE } from "./shared";

export type CredentialRecord = {
  id: string;
  name: string;
  scopes: ServiceScope[];
  tenant: { id: string; slug: string } | null;
  revokedAt: Date | null;
};

/** A credential as the change verbs need it (never its secret hash), or null. */
export async function findCredential(tx: Tx, id: string): Promise<CredentialRecord | null> {
  const row = await tx.serviceCredential.findUnique({
    where: { id },
    select: { id: true, name: true, scopes: true, revokedAt: true, tenant: { select: { id: true, slug: true } } },
  });
  return row ? { ...row, scopes: scopesFromDb(row.scopes) } : null;
}

/** Locks the credential's row until the transaction ends, so a rotation and a revocation of it are ordered. */
export async function lockCredentialRow(tx: Tx, id: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM service_credentials WHERE id = ${id}::uuid FOR UPDATE`;
}

/**
 * The start of a change to one credential (revoke, rotate): the caller must be a vendor admin
 * (a refusal is audited), the credential must exist; its name (when asked) and row are locked
 * and it is read again under the lock.
 */
export async function lockCredentialForChange(
  tx: Tx,
  caller: Caller,
  credentialId: string,
  action: AuditAction,
  options: { lockName: boolean },
): Promise<{ standing: Standing; current: CredentialRecord; target: { type: string; id: string } }> {
  const standing = await standingOf(tx, caller.userId, null);
  const found = await findCredential(tx, credentialId);
  const target = { type: TARGET_TYPE, id: credentialId };
  if (!standing.isVendorAdmin) {
    throw await refuse(tx, caller, standing, found?.tenant?.id ?? null, action, target, {
      ...(found ? credentialDetails(found) : {}),
      reason: "not a vendor admin",
    });
  }
  if (!found) throw new AppError("not_found", "There is no such service credential.");
  if (options.lockName) await lockCredentialName(tx, found.name);
  await lockCredentialRow(tx, credentialId);
  return { standing, current: (await findCredential(tx, credentialId))!, target };
}
