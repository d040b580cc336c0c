import "server-only";
import type { Tx } from "@/lib/db";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { scopesFromDb } from "./shared";

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
