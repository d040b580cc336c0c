// `npm run bench:fleet -- [--tenants 10000] [--runs 7] [--plans] [--smoke]`: how long the vendor's
// fleet table takes at fleet scale. Creates a throw-away database on the PostgreSQL server at
// TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), seeds a fleet
// (tests/helpers/fleet-seed.ts), and prints, for the first page of each sort and filter, the
// server's execution time (EXPLAIN ANALYZE, median and worst of N warm runs) and the time of the
// whole listFleet call as the page makes it. Measures; does not judge. Drops the database.
import pg from "pg";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { getConfig, installConfig } from "@/lib/config";
import { disconnectDb, getDb, Prisma } from "@/lib/db";
import { fleetQuerySchema, type FleetQuery } from "@/lib/fleet/fleet-query";
import { FLEET_STAMP_SQL, fleetStamp } from "@/lib/fleet/fleet-stamp";
import { fleetPageSql, fleetTenantSql, listFleet } from "@/lib/fleet/list-fleet";
import { getFleetTenant } from "@/lib/fleet/tenant-detail";
import { refreshFleetUsage } from "@/lib/fleet/refresh-fleet-usage";
import { createTestDatabase } from "../tests/helpers/db";
import { seedFleet } from "../tests/helpers/fleet-seed";

type Plan = { "Execution Time": number; Plan: Record<string, unknown> };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function planLines(node: Record<string, unknown>, depth = 0): string[] {
  const parts = [String(node["Node Type"])];
  if (node["Index Name"]) parts.push(`using ${String(node["Index Name"])}`);
  if (node["Relation Name"]) parts.push(`on ${String(node["Relation Name"])}`);
  parts.push(`rows=${String(node["Actual Rows"])} loops=${String(node["Actual Loops"])} time=${String(node["Actual Total Time"])} ms`);
  const lines = [`${"  ".repeat(depth)}${parts.join(" ")}`];
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) lines.push(...planLines(child, depth + 1));
  return lines;
}

async function main(): Promise<void> {
  const smoke = process.argv.includes("--smoke");
  const tenants = Math.min(Math.max(Number(arg("tenants") ?? (smoke ? 1000 : 10_000)), 1), 99_999);
  const runs = Math.min(Math.max(Number(arg("runs") ?? (smoke ? 3 : 7)), 1), 100);
  const database = await createTestDatabase();
  try {
    installConfig({ ...getConfig(), DATABASE_URL: database.url });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const seedStarted = performance.now();
    try {
      await seedFleet(client, { tenants, prefix: "fleet" });
    } finally {
      await client.end();
    }
    const refreshStarted = performance.now();
    await refreshFleetUsage();
    const refreshMs = performance.now() - refreshStarted;
    console.log(`fleet of ${tenants} tenants seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; ${runs} warm runs per case`);
    console.log(`  fleet_usage refresh (the minute job): ${refreshMs.toFixed(0)} ms`);
    await grantVendorAdmins(["bench@vendor.example"]);
    const vendor = { userId: (await getDb().user.findUniqueOrThrow({ where: { email: "bench@vendor.example" } })).id, request: { sourceIp: null, userAgent: null, requestId: null } };

    const cases: Array<[string, Partial<FleetQuery>]> = [
      ["attention (default)", {}],
      ["name", { sort: "name" }],
      ["operations, last 24 h", { sort: "operations" }],
      ["last use", { sort: "last_use" }],
      ["state = revoked", { state: "revoked" }],
      ["rotation overdue", { rotation: "overdue" }],
      ["sort by rotation", { sort: "rotation" }],
      ["search 'fleet0012'", { q: "fleet0012" }],
      ["page 100", { page: 100 }],
    ];
    console.log("  case                        server p50   server worst   listFleet p50   listFleet p99");
    for (const [label, input] of cases) {
      const query = fleetQuerySchema.parse(input);
      const offset = (query.page - 1) * 50;
      const server: number[] = [];
      const whole: number[] = [];
      let plan: Plan | undefined;
      for (let run = 0; run <= runs; run++) {
        const rows = await getDb().$queryRaw<Array<{ "QUERY PLAN": Plan[] }>>(Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${fleetPageSql(query, offset)}`);
        plan = rows[0]!["QUERY PLAN"][0]!;
        const started = performance.now();
        await listFleet(vendor, query);
        if (run === 0) continue; // warm-up
        server.push(plan["Execution Time"]);
        whole.push(performance.now() - started);
      }
      server.sort((a, b) => a - b);
      whole.sort((a, b) => a - b);
      console.log(
        `  ${label.padEnd(28)}${percentile(server, 50).toFixed(1).padStart(8)} ms${server[server.length - 1]!.toFixed(1).padStart(12)} ms` +
          `${percentile(whole, 50).toFixed(1).padStart(13)} ms${percentile(whole, 99).toFixed(1).padStart(14)} ms`,
      );
      if (process.argv.includes("--plans") && plan) console.log(planLines(plan.Plan, 2).join("\n"));
    }

    // A tenant's detail: its own row by id (what the page runs), against the fleet query
    // narrowed to that id (what it ran before); and the stamp the open fleet page polls.
    const [sample] = await getDb().$queryRaw<Array<{ id: string }>>`SELECT id::text AS id FROM tenants WHERE slug = 'fleet00105'`;
    const others: Array<[string, () => Prisma.Sql, (() => Promise<unknown>) | null]> = [
      ["detail: the tenant's own row", () => fleetTenantSql(sample!.id), () => getFleetTenant(vendor, sample!.id)],
      ["detail: fleet query by id", () => fleetPageSql(fleetQuerySchema.parse({ q: sample!.id }), 0), null],
      ["live stamp (polled 2/s)", () => FLEET_STAMP_SQL, () => fleetStamp()],
    ];
    console.log("  case                        server p50   server worst     call p50        call p99");
    for (const [label, sql, call] of others) {
      const server: number[] = [];
      const whole: number[] = [];
      let plan: Plan | undefined;
      for (let run = 0; run <= runs; run++) {
        const rows = await getDb().$queryRaw<Array<{ "QUERY PLAN": Plan[] }>>(Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${sql()}`);
        plan = rows[0]!["QUERY PLAN"][0]!;
        const started = performance.now();
        if (call) await call();
        if (run === 0) continue;
        server.push(plan["Execution Time"]);
        whole.push(performance.now() - started);
      }
      server.sort((a, b) => a - b);
      whole.sort((a, b) => a - b);
      const serverText = `${percentile(server, 50).toFixed(1).padStart(8)} ms${server[server.length - 1]!.toFixed(1).padStart(12)} ms`;
      const callText = call ? `${percentile(whole, 50).toFixed(1).padStart(13)} ms${percentile(whole, 99).toFixed(1).padStart(14)} ms` : "";
      console.log(`  ${label.padEnd(28)}${serverText}${callText}`);
      if (process.argv.includes("--plans") && plan) console.log(planLines(plan.Plan, 2).join("\n"));
    }
  } finally {
    await disconnectDb();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error("bench:fleet failed:", error instanceof Error ? error.message : String(error));
  process.exit(1);
});
