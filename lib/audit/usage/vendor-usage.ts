import "server-only";
import { getDb, getReadDb, Prisma } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { type Caller, standingOf } from "@/lib/authz";
import { VENDOR_CHAIN } from "../actions";
import { KEY_SERVICE_ACTIONS } from "./key-actions";
import { rollUpAll } from "./roll-up";
import { buildSeries, type CountRow, dayWindow, hourWindow, type UsageSeries } from "./series";
import { USAGE_DAYS, USAGE_HOURS } from "./tenant-usage";

// The vendor's view of usage across tenants: counts of key-service calls only. Data labels,
// actor names (the tenant's people, the end users calls act for), object and key ids stay in
// the tenant's own trail: they describe the tenant's data and staff, and a count answers the
// vendor's questions (is the tenant using it, is it failing, when did it last work) without
// them. Nothing here is read from audit_events; every figure comes from the rollups.

export type TenantUsageRow = {
  tenantId: string;
  slug: string;
  name: string;
  /** Key-service items (a batch counts its items) and calls, last 24 whole hours. */
  items24h: number;
  calls24h: number;
  items30d: number;
  calls30d: number;
  /** Calls refused (denied) in 30 days: revoked access, missing scope, no key … */
  refused30d: number;
  /** Calls that failed (KMS unreachable, throttled, denied by the KMS …) in 30 days. */
  failed30d: number;
  /** failed30d / calls30d, or null without calls. */
  errorRate30d: number | null;
  lastUsedAt: string | null;
};

export type VendorUsage = {
  tenants: TenantUsageRow[];
  /** All tenants' key-service calls together. */
  hourly: UsageSeries;
  daily: UsageSeries;
  /** Calls refused before any tenant was involved (unknown tenant, credential restricted to another tenant), 30 days. */
  vendorChainRefusals30d: number;
  freshness: { countedThrough: string | null; pending: number };
};

const CATCH_UP_BUDGET_MS = 300;
const num = (value: bigint | number | null | undefined) => Number(value ?? 0);

export async function getVendorUsage(caller: Caller, now = new Date()): Promise<VendorUsage> {
  const standing = await standingOf(getDb(), caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see usage across tenants.");

  try {
    await rollUpAll({ budgetMs: CATCH_UP_BUDGET_MS, batchSize: 5_000 });
  } catch (error) {
    log.warn(errorFields(error), "usage catch-up at page load failed; showing the last counts");
  }
  const hours = hourWindow(now, USAGE_HOURS);
  const days = dayWindow(now, USAGE_DAYS);
  const sinceHour = hours[0]!.toISOString();
  const last24 = hours[USAGE_HOURS - 24]!.toISOString();
  const sinceDay = days[0]!.toISOString().slice(0, 10);
  const keyActions = Prisma.join([...KEY_SERVICE_ACTIONS]);
  const db = getReadDb();

  const [tenantRows, hourRows, dayRows, [vendorChain], [freshness]] = await Promise.all([
    db.$queryRaw<
      Array<{ id: string; slug: string; name: string; items24h: bigint | null; calls24h: bigint | null; items30d: bigint | null; calls30d: bigint | null; refused30d: bigint | null; failed30d: bigint | null; last_used_at: Date | null }>
    >`
      SELECT t.id::text AS id, t.slug, t.name, h.items AS items24h, h.calls AS calls24h, d.items AS items30d, d.calls AS calls30d,
             d.refused AS refused30d, d.failed AS failed30d, k.last_used_at
        FROM tenants t
        LEFT JOIN (SELECT chain, sum(items) AS items, sum(events) AS calls FROM audit_usage_hourly
                    WHERE hour >= ${last24}::timestamptz AND action IN (${keyActions}) GROUP BY chain) h ON h.chain = t.id::text
        LEFT JOIN (SELECT chain, sum(items) AS items, sum(events) AS calls,
                          sum(events) FILTER (WHERE outcome = 'denied') AS refused, sum(events) FILTER (WHERE outcome = 'failure') AS failed
                     FROM audit_usage_daily WHERE day >= ${sinceDay}::date AND action IN (${keyActions}) GROUP BY chain) d ON d.chain = t.id::text
        LEFT JOIN (SELECT chain, max(last_used_at) AS last_used_at FROM audit_usage_keys GROUP BY chain) k ON k.chain = t.id::text
       ORDER BY coalesce(d.items, 0) DESC, t.name`,
    db.$queryRaw<CountRow[]>`
      SELECT hour AS at, action, outcome::text AS outcome, sum(events) AS events, sum(items) AS items FROM audit_usage_hourly
       WHERE hour >= ${sinceHour}::timestamptz AND chain <> ${VENDOR_CHAIN} AND action IN (${keyActions}) GROUP BY 1, 2, 3`,
    db.$queryRaw<CountRow[]>`
      SELECT day::timestamp AT TIME ZONE 'UTC' AS at, action, outcome::text AS outcome, sum(events) AS events, sum(items) AS items
        FROM audit_usage_daily
       WHERE day >= ${sinceDay}::date AND chain <> ${VENDOR_CHAIN} AND action IN (${keyActions}) GROUP BY 1, 2, 3`,
    db.$queryRaw<Array<{ refused: bigint | null }>>`
      SELECT sum(events) AS refused FROM audit_usage_daily
       WHERE chain = ${VENDOR_CHAIN} AND day >= ${sinceDay}::date AND action IN (${keyActions}) AND outcome <> 'success'`,
    db.$queryRaw<Array<{ rolled_through: Date | null; pending: bigint | null }>>`
      SELECT max(w.rolled_through) AS rolled_through, sum(greatest(c.seq - coalesce(w.rolled_seq, 0), 0)) AS pending
        FROM audit_chains c LEFT JOIN audit_usage_watermarks w ON w.chain = c.chain`,
  ]);

  return {
    tenants: tenantRows.map((r) => {
      const calls30d = num(r.calls30d);
      const failed30d = num(r.failed30d);
      return {
        tenantId: r.id,
        slug: r.slug,
        name: r.name,
        items24h: num(r.items24h),
        calls24h: num(r.calls24h),
        items30d: num(r.items30d),
        calls30d,
        refused30d: num(r.refused30d),
        failed30d,
        errorRate30d: calls30d > 0 ? failed30d / calls30d : null,
        lastUsedAt: r.last_used_at?.toISOString() ?? null,
      };
    }),
    hourly: buildSeries("hour", hours, hourRows),
    daily: buildSeries("day", days, dayRows),
    vendorChainRefusals30d: num(vendorChain?.refused),
    freshness: { countedThrough: freshness?.rolled_through?.toISOString() ?? null, pending: num(freshness?.pending) },
  };
}
