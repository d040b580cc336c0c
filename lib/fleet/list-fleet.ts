import "server-only";
import { getDb, Prisma } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type Caller, type Standing, standingOf } from "@/lib/authz";
import { keyRefOf, KMS_PROVIDERS, VENDOR_SIDE_ERROR_KINDS } from "@/lib/kms";
import { DEFAULT_DIRECTION, FLEET_PAGE_SIZE, TENANT_ID, type FleetQuery, type FleetSort, type FleetState } from "./fleet-query";

// The vendor's fleet: one row per tenant with its health, computed, sorted, filtered and paged
// in one query. Counts come from fleet_usage (the usage rollups' last 24 hours, recomputed every
// minute), never from the tenants' trails: the vendor learns how much a tenant uses Custody and
// whether it fails, not what for. States are live: a revocation shows on the next read.

export type FleetRow = {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
  state: FleetState;
  /** The KMS of the tenant's primary key (or its newest key while none is primary): its provider's name, label and the key's location (region, …). */
  provider: string | null;
  providerLabel: string | null;
  location: string | null;
  lastVerifiedAt: Date | null;
  lastUsedAt: Date | null;
  operations24h: number;
  refusals24h: number;
  leaseFailures24h: number;
  failingSinks: number;
  /** A verification failed on the vendor's side (Custody's own role or network): the vendor's to fix. */
  vendorSideFailure: boolean;
  /** Days the primary KMS key is past its tenant's rotation policy (lib/fleet/kms-rotation.ts); null while not overdue or without a policy. */
  rotationOverdueDays: number | null;
  /** The tenant's admins, first invited first: whom the vendor contacts. */
  adminEmails: string[];
  memberCount: number;
};

export type FleetPage = {
  rows: FleetRow[];
  total: number;
  page: number;
  pageCount: number;
  /** When the usage columns were last recomputed (null before the first run). */
  usageAsOf: Date | null;
};

type RawRow = {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
  state: FleetState;
  provider: string | null;
  key_ref: string | null;
  key_details: unknown;
  last_verified_at: Date | null;
  last_used_at: Date | null;
  operations: bigint;
  refusals: bigint;
  lease_failures: bigint;
  failing_sinks: bigint;
  vendor_side_failure: boolean;
  rotation_overdue_days: number | null;
};

type RawPageRow = RawRow & { total: bigint };

// Revoked and failing tenants first: what a vendor's operator scans the fleet for.
const ATTENTION = Prisma.sql`CASE
  WHEN state = 'failing' OR vendor_side_failure THEN 0
  WHEN lease_failures > 0 OR failing_sinks > 0 THEN 1
  WHEN state = 'revoked' THEN 2
  WHEN rotation_overdue_days IS NOT NULL THEN 3
  WHEN state = 'pending' THEN 4
  WHEN state = 'none' THEN 5
  ELSE 6 END`;

const SORT_COLUMN: Record<FleetSort, Prisma.Sql> = {
  attention: ATTENTION,
  name: Prisma.sql`lower(name)`,
  created: Prisma.sql`created_at`,
  last_verified: Prisma.sql`last_verified_at`,
  last_use: Prisma.sql`last_used_at`,
  operations: Prisma.sql`operations`,
  refusals: Prisma.sql`refusals`,
  rotation: Prisma.sql`rotation_overdue_days`,
};

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// One tenant's row, over the sources the two queries below join as t (tenants), p (its primary
// key), newest (its newest key while none is primary), trouble (its keys' failed verifications),
// u (fleet_usage) and sinks (its failing log sinks): the fleet and a tenant's detail compute
// every field the same way.
const ROW_COLUMNS = Prisma.sql`
  t.id::text AS id, t.slug, t.name, t.created_at,
  CASE
    WHEN t.access_revoked_at IS NOT NULL THEN 'revoked'
    WHEN trouble.failing THEN 'failing'
    WHEN t.primary_kms_key_id IS NOT NULL THEN 'active'
    WHEN newest.id IS NOT NULL THEN 'pending'
    ELSE 'none'
  END AS state,
  coalesce(p.provider, newest.provider) AS provider,
  coalesce(p.key_ref, newest.key_ref) AS key_ref,
  coalesce(p.key_details, newest.key_details) AS key_details,
  p.last_verified_at,
  u.last_used_at,
  coalesce(u.operations, 0) AS operations,
  coalesce(u.refusals, 0) AS refusals,
  coalesce(u.lease_failures, 0) AS lease_failures,
  coalesce(sinks.failing, 0) AS failing_sinks,
  coalesce(trouble.vendor_side_failure, false) AS vendor_side_failure,
  CASE WHEN p.created_at + make_interval(days => t.kms_rotation_days) <= now()
    THEN floor(extract(epoch FROM now() - (p.created_at + make_interval(days => t.kms_rotation_days))) / 86400)::int
  END AS rotation_overdue_days`;

const VENDOR_SIDE = Prisma.sql`last_error_kind IN (${Prisma.join([...VENDOR_SIDE_ERROR_KINDS])})`;

/** The query for one page of the fleet (exported for the bench's query plans). */
export function fleetPageSql(query: FleetQuery, offset: number): Prisma.Sql {
  const search = query.q
    ? TENANT_ID.test(query.q)
      ? Prisma.sql`AND t.id = ${query.q}::uuid`
      : Prisma.sql`AND (t.name ILIKE ${likePattern(query.q)} OR t.slug ILIKE ${likePattern(query.q)})`
    : Prisma.empty;
  const filters = [
    query.state ? Prisma.sql`state = ${query.state}` : null,
    query.rotation === "overdue" ? Prisma.sql`rotation_overdue_days IS NOT NULL` : null,
  ].filter((filter): filter is Prisma.Sql => filter !== null);
  const where = filters.length > 0 ? Prisma.sql`WHERE ${Prisma.join(filters, " AND ")}` : Prisma.empty;
  const direction = (query.dir ?? DEFAULT_DIRECTION[query.sort]) === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;

  // Set-wise joins, not per-tenant subqueries: sorting by any column computes every row, so
  // each source is read once (bench:fleet has the plans).
  return Prisma.sql`
    WITH newest AS (
      -- Tenants without a primary key show their newest key (pending, or all revoked).
      SELECT DISTINCT ON (k.tenant_id) k.tenant_id, k.id, k.provider, k.key_ref, k.key_details
        FROM kms_keys k JOIN tenants t ON t.id = k.tenant_id AND t.primary_kms_key_id IS NULL
       ORDER BY k.tenant_id, k.created_at DESC
    ), trouble AS (
      SELECT tenant_id,
             bool_or(status IN ('active', 'pending_verification')) AS failing,
             bool_or(${VENDOR_SIDE}) AS vendor_side_failure
        FROM kms_keys WHERE last_attempt_ok = false GROUP BY tenant_id
    ), sinks AS (
      SELECT tenant_id, count(*) AS failing FROM log_sinks WHERE enabled AND consecutive_failures > 0 GROUP BY tenant_id
    ), fleet AS (
      SELECT ${ROW_COLUMNS}
        FROM tenants t
        LEFT JOIN kms_keys p ON p.id = t.primary_kms_key_id
        LEFT JOIN newest ON newest.tenant_id = t.id
        LEFT JOIN trouble ON trouble.tenant_id = t.id
        LEFT JOIN fleet_usage u ON u.chain = t.id::text
        LEFT JOIN sinks ON sinks.tenant_id = t.id
       WHERE true ${search}
    )
    SELECT *, count(*) OVER () AS total FROM fleet ${where}
     ORDER BY ${SORT_COLUMN[query.sort]} ${direction} NULLS LAST, lower(name), id
     LIMIT ${FLEET_PAGE_SIZE} OFFSET ${offset}`;
}

/**
 * The query for one tenant's row (exported for the tests' query plans): the same fields as the
 * fleet's, each source read for this tenant alone through its tenant_id index.
 */
export function fleetTenantSql(tenantId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT ${ROW_COLUMNS}
      FROM tenants t
      LEFT JOIN kms_keys p ON p.id = t.primary_kms_key_id
      LEFT JOIN LATERAL (
        SELECT k.id, k.provider, k.key_ref, k.key_details FROM kms_keys k
         WHERE k.tenant_id = t.id AND t.primary_kms_key_id IS NULL
         ORDER BY k.created_at DESC LIMIT 1
      ) newest ON true
      LEFT JOIN LATERAL (
        SELECT bool_or(status IN ('active', 'pending_verification')) AS failing, bool_or(${VENDOR_SIDE}) AS vendor_side_failure
          FROM kms_keys WHERE tenant_id = t.id AND last_attempt_ok = false
      ) trouble ON true
      LEFT JOIN fleet_usage u ON u.chain = t.id::text
      LEFT JOIN LATERAL (
        SELECT count(*) AS failing FROM log_sinks WHERE tenant_id = t.id AND enabled AND consecutive_failures > 0
      ) sinks ON true
     WHERE t.id = ${tenantId}::uuid`;
}

/** The caller's standing, if they are a vendor admin; a refusal otherwise. */
export async function requireFleetViewer(caller: Caller): Promise<Standing> {
  const standing = await standingOf(getDb(), caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see the fleet.");
  return standing;
}

/** One page of the fleet, for vendor admins only. */
export async function listFleet(caller: Caller, query: FleetQuery): Promise<FleetPage> {
  await requireFleetViewer(caller);
  return fleetPage(query);
}

/** One page of the fleet, unchecked: callers check the viewer first. */
export async function fleetPage(query: FleetQuery): Promise<FleetPage> {
  const db = getDb();
  const fetchPage = (offset: number) => db.$queryRaw<RawPageRow[]>(fleetPageSql(query, offset));
  const rows = await fetchPage((query.page - 1) * FLEET_PAGE_SIZE);
  // Past the last page (an old link after tenants were removed): no rows, but the true total,
  // so the page can offer the last one.
  const counted = rows.length > 0 || query.page === 1 ? rows : await fetchPage(0);
  const total = counted.length > 0 ? Number(counted[0]!.total) : 0;
  const [usage, memberships] = await Promise.all([
    db.fleetUsage.aggregate({ _max: { asOf: true } }),
    db.membership.findMany({
      where: { tenantId: { in: rows.map((row) => row.id) } },
      select: { tenantId: true, role: true, user: { select: { email: true } } },
      orderBy: { createdAt: "asc" },
    }),
  ]);
  return {
    rows: rows.map((row) => rowOf(row, memberships)),
    total,
    page: query.page,
    pageCount: Math.max(1, Math.ceil(total / FLEET_PAGE_SIZE)),
    usageAsOf: usage._max.asOf,
  };
}

/** One tenant's row, unchecked (callers check the viewer first); null for no such tenant. */
export async function fleetTenantRow(tenantId: string): Promise<FleetRow | null> {
  const db = getDb();
  const [[row], memberships] = await Promise.all([
    db.$queryRaw<RawRow[]>(fleetTenantSql(tenantId)),
    db.membership.findMany({
      where: { tenantId },
      select: { tenantId: true, role: true, user: { select: { email: true } } },
      orderBy: { createdAt: "asc" },
    }),
  ]);
  return row ? rowOf(row, memberships) : null;
}

type MembershipOfRow = { tenantId: string; role: string; user: { email: string } };

function rowOf(row: RawRow, memberships: MembershipOfRow[]): FleetRow {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    createdAt: row.created_at,
    state: row.state,
    ...kmsOf(row),
    lastVerifiedAt: row.last_verified_at,
    lastUsedAt: row.last_used_at,
    operations24h: Number(row.operations),
    refusals24h: Number(row.refusals),
    leaseFailures24h: Number(row.lease_failures),
    failingSinks: Number(row.failing_sinks),
    vendorSideFailure: row.vendor_side_failure,
    rotationOverdueDays: row.rotation_overdue_days,
    adminEmails: memberships.filter((m) => m.tenantId === row.id && m.role === "ADMIN").map((m) => m.user.email),
    memberCount: memberships.filter((m) => m.tenantId === row.id).length,
  };
}

/** The provider's label and the key's location, read by the key's provider (the reference stays opaque here). */
function kmsOf(row: { provider: string | null; key_ref: string | null; key_details: unknown }): Pick<FleetRow, "provider" | "providerLabel" | "location"> {
  if (!row.provider || !row.key_ref) return { provider: row.provider, providerLabel: null, location: null };
  const key = keyRefOf({ provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details });
  const definition = KMS_PROVIDERS[key.provider];
  return { provider: key.provider, providerLabel: definition.display.label, location: definition.display.location(key) };
}
