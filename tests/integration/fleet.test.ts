import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { disconnectDb, getDb, Prisma } from "@/lib/db";
import { FLEET_PAGE_SIZE, fleetQuerySchema, type FleetQuery } from "@/lib/fleet/fleet-query";
import { fleetStampFor } from "@/lib/fleet/fleet-stamp";
import { type FleetRow, fleetTenantSql, listFleet } from "@/lib/fleet/list-fleet";
import { getFleetTenant } from "@/lib/fleet/tenant-detail";
import { verifyStoredChain } from "@/lib/audit";
import { refreshFleetUsage } from "@/lib/fleet/refresh-fleet-usage";
import type { RequestMeta } from "@/lib/http/request-meta";
import { revokeAccess } from "@/lib/keys/revoke-access";
import type { Caller } from "@/lib/authz";
import { createTenant } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { seedFleet } from "../helpers/fleet-seed";
import { refusal } from "../helpers/refusal";

// The vendor's fleet table as the database computes it: every tenant's state from its keys
// and revocation, usage from the rollups, sorted, filtered and paged server-side, for vendor
// admins only. The seeded fleet's shape is in tests/helpers/fleet-seed.ts.

const TENANTS = 500;
const request: RequestMeta = { sourceIp: null, userAgent: "vitest", requestId: null };
let database: TestDatabase;
let vendor: Caller;

const query = (input: Partial<Record<keyof FleetQuery, unknown>> = {}) => fleetQuerySchema.parse(input);

/** The tables a query's plan reads whole (sequential scans). */
async function seqScans(sql: Prisma.Sql): Promise<string[]> {
  const [row] = await getDb().$queryRaw<Array<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>>(Prisma.sql`EXPLAIN (FORMAT JSON) ${sql}`);
  const found: string[] = [];
  const walk = (node: PlanNode) => {
    if (node["Node Type"] === "Seq Scan" && node["Relation Name"]) found.push(node["Relation Name"]);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(row!["QUERY PLAN"][0]!.Plan);
  return [...new Set(found)].sort();
}
type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };

async function callerFor(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await seedFleet(client, { tenants: TENANTS, prefix: "fleet" });
  } finally {
    await client.end();
  }
  await refreshFleetUsage();
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("the fleet table", () => {
  it("pages the whole fleet, the tenants needing attention first", async () => {
    const first = await listFleet(vendor, query());
    expect(first.total).toBe(TENANTS);
    expect(first.pageCount).toBe(TENANTS / FLEET_PAGE_SIZE);
    expect(first.rows).toHaveLength(FLEET_PAGE_SIZE);
    // 10 failing verifications (i % 50 = 1) come first, then lease failures and failing sinks.
    expect(first.rows.slice(0, 10).map((row) => row.state)).toEqual(Array(10).fill("failing"));
    expect(first.rows[10]!.leaseFailures24h + first.rows[10]!.failingSinks).toBeGreaterThan(0);

    const seen = new Set<string>();
    for (let page = 1; page <= first.pageCount; page++) {
      for (const row of (await listFleet(vendor, query({ page }))).rows) seen.add(row.id);
    }
    expect(seen.size).toBe(TENANTS);
  });

  it("computes each state from the tenant's keys and revocation", async () => {
    const counts = Object.fromEntries(
      await Promise.all(
        (["none", "pending", "active", "failing", "revoked"] as const).map(async (state) => [state, (await listFleet(vendor, query({ state }))).total]),
      ),
    );
    expect(counts).toEqual({ none: 50, pending: 10, active: 420, failing: 10, revoked: 10 });
    const revoked = await listFleet(vendor, query({ state: "revoked" }));
    expect(revoked.rows.every((row) => row.slug.endsWith("0") && Number(row.slug.slice(5)) % 50 === 0)).toBe(true);
  });

  it("reports usage, lease failures and failing sinks from the last day", async () => {
    const [row] = (await listFleet(vendor, query({ q: "fleet00005" }))).rows;
    // i = 5: active, 24 hours × (45 + 15 + 6 calls), 24 refused, lease failures (5 % 40 = 5).
    expect(row).toMatchObject({ slug: "fleet00005", state: "active", provider: "aws", providerLabel: "AWS KMS", location: "eu-west-1" });
    expect(row!.operations24h).toBe(24 * (40 + 5 + 10 + 5 + 1 + 5));
    expect(row!.refusals24h).toBe(24 * (1 + 5));
    expect(row!.leaseFailures24h).toBe(3);
    const [sinky] = (await listFleet(vendor, query({ q: "fleet00004" }))).rows;
    expect(sinky!.failingSinks).toBe(1);
    const [idle] = (await listFleet(vendor, query({ q: "fleet00003" }))).rows;
    expect(idle).toMatchObject({ state: "none", operations24h: 0, lastUsedAt: null, provider: null });
  });

  it("says when a verification failed on the vendor's side, the vendor's to fix", async () => {
    const [failing] = (await listFleet(vendor, query({ q: "fleet00051" }))).rows;
    expect(failing).toMatchObject({ state: "failing", vendorSideFailure: false });
    await getDb().kmsKey.updateMany({ where: { tenantId: failing!.id }, data: { lastErrorKind: "access_denied_vendor" } });
    const [after] = (await listFleet(vendor, query({ q: "fleet00051" }))).rows;
    expect(after).toMatchObject({ state: "failing", vendorSideFailure: true });
  });

  it("sorts by any column, both ways", async () => {
    const byOps = (await listFleet(vendor, query({ sort: "operations" }))).rows.map((row) => row.operations24h);
    expect(byOps).toEqual([...byOps].sort((a, b) => b - a));
    expect(byOps[0]).toBe(24 * (40 + 10 + 1 + 3 * 6));
    const fewest = (await listFleet(vendor, query({ sort: "operations", dir: "asc" }))).rows.map((row) => row.operations24h);
    expect(fewest).toEqual([...fewest].sort((a, b) => a - b));
    expect(fewest[0]).toBe(0);
    const names = (await listFleet(vendor, query({ sort: "name", dir: "desc" }))).rows.map((row) => row.name);
    expect(names[0]).toBe("Fleet 00500");
    expect(names).toEqual([...names].sort().reverse());
    const created = (await listFleet(vendor, query({ sort: "created" }))).rows.map((row) => row.createdAt.getTime());
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it("finds a tenant by name, URL name or id, and treats wildcards as text", async () => {
    const [byName] = (await listFleet(vendor, query({ q: "Fleet 00123" }))).rows;
    expect(byName!.slug).toBe("fleet00123");
    const byId = await listFleet(vendor, query({ q: byName!.id }));
    expect(byId.rows.map((row) => row.slug)).toEqual(["fleet00123"]);
    expect((await listFleet(vendor, query({ q: "fleet0012" }))).total).toBe(10);
    expect((await listFleet(vendor, query({ q: "%" }))).total).toBe(0);
    expect((await listFleet(vendor, query({ q: "_" }))).total).toBe(0);
  });

  it("flags the tenants whose KMS key is past their rotation policy, filters and sorts by it, and puts them before the quiet ones", async () => {
    // i % 20 = 7: keys registered 400 days ago, 35 days past the default 365-day policy.
    const overdue = await listFleet(vendor, query({ rotation: "overdue" }));
    expect(overdue.total).toBe(TENANTS / 20);
    expect(overdue.rows.map((row) => [Number(row.slug.slice(5)) % 20, row.rotationOverdueDays])).toEqual(overdue.rows.map(() => [7, 35]));
    expect((await listFleet(vendor, query({ q: "fleet00005" }))).rows[0]!.rotationOverdueDays).toBeNull();
    const byRotation = await listFleet(vendor, query({ sort: "rotation" }));
    expect(byRotation.rows.slice(0, TENANTS / 20).every((row) => row.rotationOverdueDays === 35)).toBe(true);
    expect(byRotation.rows[TENANTS / 20]!.rotationOverdueDays).toBeNull();

    // In the default order, after the troubled tenants and before every quiet active one.
    const active: FleetRow[] = [];
    const first = await listFleet(vendor, query({ state: "active" }));
    for (let page = 1; page <= first.pageCount; page++) active.push(...(await listFleet(vendor, query({ state: "active", page }))).rows);
    const quiet = (row: FleetRow) => row.rotationOverdueDays === null && row.leaseFailures24h === 0 && row.failingSinks === 0;
    const lastOverdue = active.findLastIndex((row) => row.rotationOverdueDays !== null);
    expect(active.findIndex(quiet)).toBeGreaterThan(lastOverdue);

    // A longer policy, or none, and the tenant is no longer overdue.
    const tenantId = overdue.rows[0]!.id;
    await getDb().tenant.update({ where: { id: tenantId }, data: { kmsRotationDays: 500 } });
    expect((await listFleet(vendor, query({ rotation: "overdue" }))).total).toBe(TENANTS / 20 - 1);
    await getDb().tenant.update({ where: { id: tenantId }, data: { kmsRotationDays: null } });
    expect((await listFleet(vendor, query({ q: tenantId }))).rows[0]!.rotationOverdueDays).toBeNull();
    await getDb().tenant.update({ where: { id: tenantId }, data: { kmsRotationDays: 365 } });
    expect((await listFleet(vendor, query({ rotation: "overdue" }))).total).toBe(TENANTS / 20);
  });

  it("a tenant's detail reads the tenant's own row, with every field as the fleet computes it", async () => {
    // One tenant of each kind the seed makes: each state, lease failures, a failing sink, rotation overdue.
    for (const slug of ["fleet00050", "fleet00051", "fleet00052", "fleet00003", "fleet00005", "fleet00004", "fleet00007", "fleet00008"]) {
      const [fromFleet] = (await listFleet(vendor, query({ q: slug }))).rows;
      const detail = await getFleetTenant(vendor, fromFleet!.id);
      expect(detail.row, slug).toEqual(fromFleet);
    }
    // An id in capitals is the same tenant, and its look lands on the tenant's own chain.
    const [row] = (await listFleet(vendor, query({ q: "fleet00008" }))).rows;
    expect((await getFleetTenant(vendor, row!.id.toUpperCase())).row.id).toBe(row!.id);
    expect(await getDb().auditEvent.count({ where: { chain: row!.id, action: "tenant.viewed_by_vendor" } })).toBe(2);
  });

  it("past the last page, returns no rows and the true total", async () => {
    const past = await listFleet(vendor, query({ page: 99 }));
    expect(past).toMatchObject({ rows: [], total: TENANTS, page: 99, pageCount: TENANTS / FLEET_PAGE_SIZE });
  });

  it("shows a tenant revoked as soon as its admin revokes", async () => {
    const { tenantId } = await createTenant(vendor, { name: "Acme", slug: "acme", adminEmail: "ada@acme.example" });
    const before = await listFleet(vendor, query({ q: "acme" }));
    expect(before.rows.map((row) => row.state)).toEqual(["none"]);
    await revokeAccess(await callerFor("ada@acme.example"), { tenantId });
    const after = await listFleet(vendor, query({ q: "acme" }));
    expect(after.rows.map((row) => row.state)).toEqual(["revoked"]);
  });

  it("a tenant's detail shows its admins and onboarding, and every look is in the tenant's trail", async () => {
    const { tenantId } = await createTenant(vendor, { name: "Gamma", slug: "gamma", adminEmail: "gil@gamma.example" });
    const detail = await getFleetTenant(vendor, tenantId);
    expect(detail.row).toMatchObject({ slug: "gamma", state: "none" });
    expect(detail.admins.map((admin) => [admin.email, admin.lastSignInAt])).toEqual([["gil@gamma.example", null]]);
    expect(detail.onboarding).toEqual([
      { step: "invited", done: true },
      { step: "signed_in", done: false },
      { step: "key_registered", done: false },
      { step: "key_verified", done: false },
    ]);
    await getFleetTenant(vendor, tenantId);

    const views = await getDb().auditEvent.findMany({ where: { chain: tenantId, action: "tenant.viewed_by_vendor" }, orderBy: { seq: "asc" } });
    expect(views.map((event) => [event.actorType, event.actorLabel, event.outcome])).toEqual([
      ["VENDOR_ADMIN", "ops@vendor.example", "SUCCESS"],
      ["VENDOR_ADMIN", "ops@vendor.example", "SUCCESS"],
    ]);
    expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: true });
  });

  it("a made-up or malformed id is not found, and a tenant admin cannot look", async () => {
    expect((await refusal(getFleetTenant(vendor, "00000000-0000-4000-8000-00000000abcd"))).code).toBe("not_found");
    expect((await refusal(getFleetTenant(vendor, "'; DROP TABLE tenants; --"))).code).toBe("not_found");
    const { tenantId } = await createTenant(vendor, { name: "Delta", slug: "delta", adminEmail: "dee@delta.example" });
    expect((await refusal(getFleetTenant(await callerFor("dee@delta.example"), tenantId))).code).toBe("forbidden");
    expect(await getDb().auditEvent.count({ where: { chain: tenantId, action: "tenant.viewed_by_vendor" } })).toBe(0);
  });

  it("is for vendor admins only", async () => {
    await createTenant(vendor, { name: "Beta", slug: "beta", adminEmail: "bob@beta.example" });
    const error = await refusal(listFleet(await callerFor("bob@beta.example"), query()));
    expect(error.code).toBe("forbidden");
  });

  it("a tenant's detail reads only that tenant's rows, by index", async () => {
    const [row] = (await listFleet(vendor, query({ q: "fleet00105" }))).rows;
    // (log_sinks holds a hundred rows here, a few pages: reading them whole is the planner's cheaper choice.)
    expect((await seqScans(fleetTenantSql(row!.id))).filter((table) => table !== "log_sinks")).toEqual([]);
  });

  it("the fleet's live stamp changes as soon as a tenant is revoked, and is for vendor admins only", async () => {
    const { tenantId } = await createTenant(vendor, { name: "Live", slug: "live", adminEmail: "liv@live.example" });
    const before = await fleetStampFor(vendor);
    expect(await fleetStampFor(vendor)).toBe(before);
    await revokeAccess(await callerFor("liv@live.example"), { tenantId });
    const revoked = await fleetStampFor(vendor);
    expect(revoked).not.toBe(before);
    await getDb().tenant.update({ where: { id: tenantId }, data: { kmsRotationDays: 30 } });
    expect(await fleetStampFor(vendor)).not.toBe(revoked);
    expect((await refusal(fleetStampFor(await callerFor("liv@live.example")))).code).toBe("not_found");
  });
});
