import "server-only";
import type { Tx } from "@/lib/db";

/**
 * PostgreSQL NOTIFY channel on which revoked (and rotated) credentials are announced, the
 * credential id as payload. Sent inside the changing transaction, so it is delivered exactly
 * when the change commits; key-service instances drop the cached credential on hearing it.
 */
export const CREDENTIALS_CHANNEL = "custody_credentials";

export async function announceCredentialChange(tx: Tx, credentialId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CREDENTIALS_CHANNEL}, ${credentialId})`;
}
