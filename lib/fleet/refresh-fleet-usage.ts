import "server-only";
import { AUDIT_ACTIONS, VENDOR_CHAIN } from "@/lib/audit/actions";
import { KEY_SERVICE_ACTIONS } from "@/lib/audit/usage/key-actions";
import { getDb, Prisma } from "@/lib/db";

/**
 * Recomputes fleet_usage: per tenant chain, the key-service calls, refusals and lease failures
 * of the last 24 hours (from the hourly rollups, so whole hours: the current hour and the 23
 * before it) and when its keys were last used. One statement: a page that reads the table
 * sees either the previous counts or these. Chains with nothing left to count are removed.
 */
export async function refreshFleetUsage(now: Date = new Date()): Promise<{ tenants: number }> {
  const keyActions = Prisma.join([...KEY_SERVICE_ACTIONS]);
  const since = new Date(now.getTime() - 23 * 3_600_000);
  const [result] = await getDb().$queryRaw<Array<{ tenants: bigint }>>`
    WITH fresh AS (
      SELECT coalesce(h.chain, k.chain) AS chain, coalesce(h.operations, 0) AS operations, coalesce(h.refusals, 0) AS refusals,
             coalesce(h.lease_failures, 0) AS lease_failures, k.last_used_at
        FROM (SELECT chain,
                     coalesce(sum(events) FILTER (WHERE action IN (${keyActions})), 0) AS operations,
                     coalesce(sum(events) FILTER (WHERE action IN (${keyActions}) AND outcome = 'denied'), 0) AS refusals,
                     coalesce(sum(events) FILTER (WHERE action = ${AUDIT_ACTIONS.leaseFailed}), 0) AS lease_failures
                FROM audit_usage_hourly
               WHERE hour >= date_trunc('hour', ${since}::timestamptz, 'UTC') AND chain <> ${VENDOR_CHAIN}
               GROUP BY chain) h
        FULL JOIN (SELECT chain, max(last_used_at) AS last_used_at FROM audit_usage_keys WHERE chain <> ${VENDOR_CHAIN} GROUP BY chain) k
          ON k.chain = h.chain
    ), kept AS (
      INSERT INTO fleet_usage AS f (chain, operations, refusals, lease_failures, last_used_at, as_of)
      SELECT chain, operations, refusals, lease_failures, last_used_at, ${now}::timestamptz FROM fresh
      ON CONFLICT (chain) DO UPDATE SET operations = EXCLUDED.operations, refusals = EXCLUDED.refusals,
             lease_failures = EXCLUDED.lease_failures, last_used_at = EXCLUDED.last_used_at, as_of = EXCLUDED.as_of
      RETURNING 1
    ), gone AS (
      DELETE FROM fleet_usage f WHERE NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.chain = f.chain) RETURNING 1
    )
    SELECT (SELECT count(*) FROM kept) AS tenants`;
  return { tenants: Number(result?.tenants ?? 0) };
}
