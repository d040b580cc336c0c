import "server-only";
import { getDb } from "@/lib/db";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { scopesFromDb } from "./shared";

/** What the key service needs to authenticate a call; cache it, and drop it on NOTIFY custody_credentials. */
export type AuthCredential = {
  id: string;
  name: string;
  scopes: ServiceScope[];
  tenantId: string | null;
  /** sha256 of the secret; compare with crypto.timingSafeEqual. */
  secretHash: Buffer;
  revokedAt: Date | null;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The credential with this id (revoked ones included, so the caller can tell why), or null. One primary-key read. */
export async function loadCredentialForAuth(id: string): Promise<AuthCredential | null> {
  if (!UUID.test(id)) return null;
  const row = await getDb().serviceCredential.findUnique({
    where: { id },
    select: { id: true, name: true, scopes: true, tenantId: true, secretHash: true, revokedAt: true },
  });
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    scopes: scopesFromDb(row.scopes),
    tenantId: row.tenantId,
    secretHash: Buffer.from(row.secretHash.buffer, row.secretHash.byteOffset, row.secretHash.byteLength),
    revokedAt: row.revokedAt,
  };
}
