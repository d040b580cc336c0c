import "server-only";
import { getDb, getReadDb, Prisma } from "@/lib/db";
import { keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { type Caller, standingOf } from "@/lib/authz";
import { KEY_SERVICE_ACTIONS } from "./key-actions";
import { rollUpChain } from "./roll-up";
import { buildSeries, type CountRow, dayWindow, hourWindow, type UsageSeries } from "./series";

// What a tenant's usage page shows, read from the rollups only (never the raw trail), after
// counting whatever the periodic job has not yet counted for this tenant, within a time budget.

export type Freshness = {
  /** The time of the newest event counted, or null when nothing is counted yet. */
  countedThrough: string | null;
  /** Events in the trail not counted yet (the periodic job is catching up). */
  pending: number;
};

export type TopLabel = { label: string; events: number; items: number; denied: number };
export type TopActor = { type: "user" | "vendor_admin" | "service" | "system"; id: string; label: string; events: number; items: number; denied: number };
/** One tenant key (the key Custody wraps data keys under), with the KMS key that protects it. */
export type KeyUse = {
  tenantKeyId: string;
  /** v1, v2, … per tenant. */
  version: number;
  retired: boolean;
  status: "active" | "revoked";
  createdAt: string;
  kmsKeyId: string;
  /** The KMS key's provider and its reference (opaque outside the provider). */
  provider: string;
  keyRef: string;
  /** The provider's label and the key's location (region, …), for display. */
  providerLabel: string;
  location: string | null;
  kmsStatus: string;
  /** Successful key-service calls that used this tenant key. */
  events: number;
  lastUsedAt: string | null;
};
export type ActivityRow = { action: string; success: number; denied: number; failure: number };

export type TenantUsage = {
  freshness: Freshness;
  hourly: UsageSeries;
  daily: UsageSeries;
  labels: TopLabel[];
  services: TopActor[];
  people: TopActor[];
  keys: KeyUse[];
  /** Console and other non-key-service events over the 30 days, by action. */
  activity: ActivityRow[];
};

export const USAGE_HOURS = 48;
export const USAGE_DAYS = 30;
const TOP = 10;
/** How long a page view may spend counting events the periodic job has not reached yet. */
const CATCH_UP_BUDGET_MS = 300;
const CATCH_UP_BATCH = 5_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const num = (value: bigint | number | null | undefined) => Number(value ?? 0);

/** Counts a chain's uncounted events for at most the page's budget; a failure only makes the page staler. */
export async function catchUp(chain: string): Promise<void> {
  try {
    await rollUpChain(chain, { budgetMs: CATCH_UP_BUDGET_MS, batchSize: CATCH_UP_BATCH });
  } catch (error) {
    log.warn({ chain, ...errorFields(error) }, "usage catch-up at page load failed; showing the last counts");
  }
}

export async function freshnessOf(chain: string): Promise<Freshness> {
  const [row] = await getReadDb().$queryRaw<Array<{ rolled_through: Date | null; pending: bigint }>>`
    SELECT w.rolled_through, greatest(coalesce(c.seq, 0) - coalesce(w.rolled_seq, 0), 0) AS pending
      FROM (SELECT ${chain}::text AS chain) x
      LEFT JOIN audit_chains c ON c.chain = x.chain
      LEFT JOIN audit_usage_watermarks w ON w.chain = x.chain`;
  return { countedThrough: row?.rolled_through?.toISOString() ?? null, pending: num(row?.pending) };
}

async function topActors(tenantId: string, sinceDay: string, types: Prisma.Sql): Promise<TopActor[]> {
  const rows = await getReadDb().$queryRaw<Array<{ actor_type: TopActor["type"]; actor_id: string; actor_label: string; events: bigint; items: bigint; denied: bigint }>>`
    SELECT actor_type, actor_id, actor_label, sum(events) AS events, sum(items) AS items, sum(denied) AS denied
      FROM audit_usage_actors_daily
     WHERE chain = ${tenantId} AND day >= ${sinceDay}::date AND actor_type::text IN (${types})
     GROUP BY 1, 2, 3 ORDER BY sum(items) DESC, sum(events) DESC, actor_label LIMIT ${TOP}`;
  return rows.map((r) => ({ type: r.actor_type, id: r.actor_id, label: r.actor_label, events: num(r.events), items: num(r.items), denied: num(r.denied) }));
}

/** A tenant's usage, for its admins and auditors. Anyone else is refused, whatever tenant id they pass. */
export async function getTenantUsage(caller: Caller, tenantId: string, now = new Date()): Promise<TenantUsage> {
  if (!UUID.test(tenantId)) throw new AppError("forbidden", "You are not a member of this tenant.");
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");

  await catchUp(tenantId);
  const hours = hourWindow(now, USAGE_HOURS);
  const days = dayWindow(now, USAGE_DAYS);
  const sinceDay = days[0]!.toISOString().slice(0, 10);
  const keyActions = Prisma.join([...KEY_SERVICE_ACTIONS]);
  const db = getReadDb();

  const [freshness, hourRows, dayRows, labelRows, services, people, keyRows, activityRows] = await Promise.all([
    freshnessOf(tenantId),
    db.$queryRaw<CountRow[]>`
      SELECT hour AS at, action, outcome::text AS outcome, events, items FROM audit_usage_hourly
       WHERE chain = ${tenantId} AND hour >= ${hours[0]!.toISOString()}::timestamptz AND action IN (${keyActions})`,
    db.$queryRaw<CountRow[]>`
      SELECT day::timestamp AT TIME ZONE 'UTC' AS at, action, outcome::text AS outcome, events, items FROM audit_usage_daily
       WHERE chain = ${tenantId} AND day >= ${sinceDay}::date AND action IN (${keyActions})`,
    db.$queryRaw<Array<{ data_label: string; events: bigint; items: bigint; denied: bigint }>>`
      SELECT data_label, sum(events) AS events, sum(items) AS items, sum(denied) AS denied
        FROM audit_usage_labels_daily
       WHERE chain = ${tenantId} AND day >= ${sinceDay}::date
       GROUP BY 1 ORDER BY sum(items) DESC, sum(events) DESC, data_label LIMIT ${TOP}`,
    topActors(tenantId, sinceDay, Prisma.join(["service"])),
    topActors(tenantId, sinceDay, Prisma.join(["user", "vendor_admin"])),
    db.$queryRaw<Array<{ id: string; version: number; retired: boolean; status: KeyUse["status"]; created_at: Date; kms_key_id: string; provider: string; key_ref: string; key_details: unknown; kms_status: string; events: bigint | null; last_used_at: Date | null }>>`
      SELECT tk.id::text AS id, tk.version, tk.retired_at IS NOT NULL AS retired, tk.status::text AS status, tk.created_at, k.id::text AS kms_key_id, k.provider, k.key_ref, k.key_details, k.status::text AS kms_status,
             u.events, u.last_used_at
        FROM tenant_keys tk
        JOIN kms_keys k ON k.id = tk.kms_key_id AND k.tenant_id = tk.tenant_id
        LEFT JOIN audit_usage_keys u ON u.chain = ${tenantId} AND u.tenant_key_id = tk.id::text
       WHERE tk.tenant_id = ${tenantId}::uuid
       ORDER BY tk.version DESC LIMIT 50`,
    db.$queryRaw<Array<{ action: string; success: bigint; denied: bigint; failure: bigint }>>`
      SELECT action, sum(events) FILTER (WHERE outcome = 'success') AS success,
             sum(events) FILTER (WHERE outcome = 'denied') AS denied, sum(events) FILTER (WHERE outcome = 'failure') AS failure
        FROM audit_usage_daily
       WHERE chain = ${tenantId} AND day >= ${sinceDay}::date AND action NOT IN (${keyActions})
       GROUP BY 1 ORDER BY sum(events) DESC, action`,
  ]);

  return {
    freshness,
    hourly: buildSeries("hour", hours, hourRows),
    daily: buildSeries("day", days, dayRows),
    labels: labelRows.map((r) => ({ label: r.data_label, events: num(r.events), items: num(r.items), denied: num(r.denied) })),
    services,
    people,
    keys: keyRows.map((r) => ({
      tenantKeyId: r.id,
      version: r.version,
      retired: r.retired,
      status: r.status,
      createdAt: r.created_at.toISOString(),
      kmsKeyId: r.kms_key_id,
      ...kmsDisplay(r.provider, r.key_ref, r.key_details),
      kmsStatus: r.kms_status,
      events: num(r.events),
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
    })),
    activity: activityRows.map((r) => ({ action: r.action, success: num(r.success), denied: num(r.denied), failure: num(r.failure) })),
  };
}

/** The key's provider, reference, the provider's label and the key's location, read by the key's provider. */
function kmsDisplay(provider: string, keyRef: string, keyDetails: unknown): Pick<KeyUse, "provider" | "keyRef" | "providerLabel" | "location"> {
  const key = keyRefOf({ provider, keyRef, keyDetails });
  const definition = KMS_PROVIDERS[key.provider];
  return { provider, keyRef, providerLabel: definition.display.label, location: definition.display.location(key) };
}
