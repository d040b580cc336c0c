import "server-only";
import type { Tx } from "@/lib/db";

/**
 * Stores a new tenant key as the tenant's next version (v1, v2, …). The caller holds the tenant
 * row's lock (lockTenant), so two new versions of one tenant cannot take the same number (the
 * unique index would refuse the second anyway).
 */
export async function createTenantKey(
  tx: Tx,
  input: { tenantId: string; kmsKeyId: string; wrappedKey: Buffer; /** The rotation job's clock (default: the database's now()). */ createdAt?: Date },
): Promise<{ id: string; version: number }> {
  const [row] = await tx.$queryRaw<Array<{ next: number }>>`
    SELECT (coalesce(max(version), 0) + 1)::int AS next FROM tenant_keys WHERE tenant_id = ${input.tenantId}::uuid`;
  return tx.tenantKey.create({
    data: { tenantId: input.tenantId, kmsKeyId: input.kmsKeyId, wrappedKey: new Uint8Array(input.wrappedKey), version: row?.next ?? 1, createdAt: input.createdAt },
    select: { id: true, version: true },
  });
}
