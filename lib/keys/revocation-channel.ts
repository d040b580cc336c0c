import "server-only";
import type { Tx } from "@/lib/db";

/**
 * PostgreSQL NOTIFY channel on which a console revocation is announced. The notification is
 * sent inside the revoking transaction, so it is delivered exactly when (and only if) the
 * revocation commits. Key-service instances LISTEN on it to drop leased tenant keys at once,
 * and re-read revocation state after any reconnect, so a missed notification cannot leave a
 * revoked tenant usable.
 */
export const REVOCATION_CHANNEL = "custody_revocation";

export async function announceRevocation(tx: Tx, tenantId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${REVOCATION_CHANNEL}, ${tenantId})`;
}

/**
 * Channel on which any other change to a tenant's keys is announced (a restore, a new primary
 * key), so instances re-read the tenant's key state instead of waiting for their cache to age.
 */
export const KEY_STATE_CHANNEL = "custody_key_state";

export async function announceKeyState(tx: Tx, tenantId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${KEY_STATE_CHANNEL}, ${tenantId})`;
}
