import "server-only";
import { type getDb, Prisma, type Tx } from "@/lib/db";
import { AUDIT_ACTIONS } from "@/lib/audit";

// How much each of a tenant's keys has been used, from the usage rollups (audit_usage_key_uses,
// kept incrementally by lib/audit/usage/roll-up.ts), plus the events the rollup has not reached
// yet (only the chain's tail past its watermark is read, never the whole trail).

export type KeyUses = { wraps: number; unwraps: number; rekeysFrom: number; rekeysTo: number; lastUsedAt: Date | null; lastReadAt: Date | null };

const EMPTY: KeyUses = { wraps: 0, unwraps: 0, rekeysFrom: 0, rekeysTo: 0, lastUsedAt: null, lastReadAt: null };
const num = (value: bigint | number | null | undefined) => Number(value ?? 0);
const later = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

/** Each of the tenant's keys' counted uses, by tenant key id (keys never used are absent). */
export async function keyUsesOf(db: Tx | ReturnType<typeof getDb>, tenantId: string): Promise<Map<string, KeyUses>> {
  const rows = await db.$queryRaw<Array<{ tenant_key_id: string; use: string; items: bigint; last_at: Date }>>`
    SELECT tenant_key_id, use, items, last_at FROM audit_usage_key_uses WHERE chain = ${tenantId}`;
  const uses = new Map<string, KeyUses>();
  for (const row of rows) {
    const entry = { ...(uses.get(row.tenant_key_id) ?? EMPTY) };
    const n = num(row.items);
    if (row.use === "wrap") entry.wraps += n;
    else if (row.use === "unwrap") entry.unwraps += n;
    else if (row.use === "rekey_from") entry.rekeysFrom += n;
    else if (row.use === "rekey_to") entry.rekeysTo += n;
    entry.lastUsedAt = later(entry.lastUsedAt, row.last_at);
    if (row.use === "unwrap" || row.use === "rekey_from") entry.lastReadAt = later(entry.lastReadAt, row.last_at);
    uses.set(row.tenant_key_id, entry);
  }
  return uses;
}

/**
 * The newest successful key-service event naming this tenant key that the rollup has not
 * counted yet (the chain's tail past the watermark: seconds of events), or null.
 */
export async function uncountedUseOf(db: Tx | ReturnType<typeof getDb>, tenantId: string, tenantKeyId: string): Promise<Date | null> {
  const actions = Prisma.join([
    AUDIT_ACTIONS.keyWrap,
    AUDIT_ACTIONS.keyBatchWrap,
    AUDIT_ACTIONS.keyUnwrap,
    AUDIT_ACTIONS.keyBatchUnwrap,
    AUDIT_ACTIONS.keyRekey,
    AUDIT_ACTIONS.keyBatchRekey,
  ]);
  const [row] = await db.$queryRaw<Array<{ at: Date | null }>>`
    SELECT max(e.occurred_at) AS at FROM audit_events e
     WHERE e.chain = ${tenantId}
       AND e.seq > coalesce((SELECT rolled_seq FROM audit_usage_watermarks WHERE chain = ${tenantId}), 0)
       AND e.outcome = 'success' AND e.action IN (${actions})
       AND (e.details ->> 'tenantKeyId' = ${tenantKeyId} OR e.details ->> 'fromTenantKeyId' = ${tenantKeyId}
            OR e.details -> 'tenantKeyIds' ? ${tenantKeyId} OR e.details -> 'fromTenantKeyIds' ? ${tenantKeyId})`;
  return row?.at ?? null;
}
