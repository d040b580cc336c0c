// `npm run bench:audit -- [--tenant <slug>] [--runs N] [--plans]`: how long the audit trail's
// first page takes for the unfiltered trail and for each single filter, on the database at
// DATABASE_URL (fill one first with `npm run seed:audit -- --events 10000000`). Prints the
// server time of each query (PostgreSQL's own execution time from EXPLAIN ANALYZE, median and
// worst of N warm runs) and, with --plans, each plan. Free text and the details-backed filters
// read audit_search (lib/audit/search): run `npm start`'s audit-search job, or let the migration
// index an existing trail, before measuring. Measures; does not judge.
import { pageQuery, searchIndexedSeq } from "@/lib/audit/query/query";
import type { AuditCursor, AuditFilter } from "@/lib/audit/query/filter";
import { getConfig } from "@/lib/config";
import { disconnectDb, getDb, Prisma } from "@/lib/db";

type Plan = { "Execution Time": number; "Planning Time": number; Plan: Record<string, unknown> };

function fail(message: string): never {
  console.error(`bench:audit: ${message}`);
  process.exit(2);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The plan as indented text, node types and the index each uses, for the note. */
function describe(node: Record<string, unknown>, depth = 0): string[] {
  const parts = [String(node["Node Type"])];
  if (node["Index Name"]) parts.push(`using ${String(node["Index Name"])}`);
  if (node["Scan Direction"] === "Backward") parts.push("(backward)");
  parts.push(`rows=${String(node["Actual Rows"])}`);
  if (node["Rows Removed by Filter"]) parts.push(`removed by filter=${String(node["Rows Removed by Filter"])}`);
  const lines = [`${"  ".repeat(depth)}${parts.join(" ")}`];
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) lines.push(...describe(child, depth + 1));
  return lines;
}

async function explain(sql: Prisma.Sql): Promise<Plan> {
  const rows = await getDb().$queryRaw<Array<{ "QUERY PLAN": Plan[] }>>(Prisma.sql`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`);
  return rows[0]!["QUERY PLAN"][0]!;
}

async function main(): Promise<void> {
  if (!getConfig().DATABASE_URL) fail("set DATABASE_URL to the database to measure");
  const slug = arg("tenant") ?? "bulk";
  const runs = Math.min(Math.max(Number(arg("runs") ?? 7), 1), 100);
  const tenant = await getDb().tenant.findUnique({ where: { slug }, select: { id: true } });
  if (!tenant) fail(`no tenant "${slug}"`);
  const chain = tenant.id;

  // Real values from the trail itself, so every filter has matches: a common and a rare one.
  const [total] = await getDb().$queryRaw<Array<{ n: bigint }>>`SELECT seq AS n FROM audit_chains WHERE chain = ${chain}`;
  const middle = await getDb().$queryRaw<Array<{ target_id: string | null; request_id: string | null; occurred_at: Date; details: Record<string, unknown> | null }>>`
    SELECT target_id, request_id, occurred_at, details FROM audit_events
     WHERE chain = ${chain} AND seq = ${(total?.n ?? 2n) / 2n} AND details ? 'objectId'`;
  const sample = middle[0];
  const day = sample ? new Date(sample.occurred_at.getTime() - 12 * 3600_000) : new Date(Date.now() - 86400_000);
  const mid = sample ? { at: sample.occurred_at, seq: (total?.n ?? 2n) / 2n } : undefined;
  const cases: Array<[string, AuditFilter, AuditCursor?]> = [
    ["unfiltered", {}],
    ["action = key.unwrap (common)", { action: "key.unwrap" }],
    ["action = key.rekey (3%)", { action: "key.rekey" }],
    ["action = access.revoked (rare or none)", { action: "access.revoked" }],
    ["outcome = denied (1%)", { outcome: "denied" }],
    ["outcome = failure (none)", { outcome: "failure" }],
    ["actor = billing-app (credential)", { actor: "billing-app" }],
    ["actor = user-17@customer.example (on behalf of)", { actor: "user-17@customer.example" }],
    ["key", sample?.target_id ? { key: sample.target_id } : {}],
    ["data label = payroll", { label: "payroll" }],
    ["data label = no-such-label", { label: "no-such-label" }],
    ["object id", { object: String(sample?.details?.objectId ?? "obj-1") }],
    ["request id", { request: sample?.request_id ?? "seed-1" }],
    ["time range: one day, mid-trail", { from: day, to: new Date(day.getTime() + 86400_000) }],
    ["time range: until mid-trail", { to: day }],
    ["free text, common (payroll)", { q: "payroll" }],
    ["free text, rare (object id)", { q: String(sample?.details?.objectId ?? "obj-1") }],
    ["free text, rare (request id)", { q: sample?.request_id ?? "seed-1" }],
    ["free text, common (render)", { q: "render" }],
    ["free text, no match", { q: "no-such-text" }],
    ["unfiltered, page at mid-trail (keyset)", {}, mid],
    ["data label = payroll, page at mid-trail", { label: "payroll" }, mid],
  ];

  console.log(`bench:audit: tenant ${slug}, ${total?.n ?? 0} events, first page of 50, ${runs} warm runs each (server time)`);
  for (const [name, filter, before] of cases) {
    // As queryAuditPage does: the search watermark first, then the page (read before each case: the job may be running).
    const indexedSeq = await searchIndexedSeq(chain, getDb());
    const sql = pageQuery(chain, filter, { before, limit: 50, indexedSeq });
    await explain(sql); // warm
    const times: number[] = [];
    let plan: Plan | undefined;
    for (let i = 0; i < runs; i++) {
      plan = await explain(sql);
      times.push(plan["Execution Time"] + plan["Planning Time"]);
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)]!;
    const worst = times[times.length - 1]!;
    const rows = Number((plan!.Plan as { "Actual Rows": number })["Actual Rows"]);
    console.log(`  ${name.padEnd(50)} median ${median.toFixed(1).padStart(7)} ms   worst ${worst.toFixed(1).padStart(7)} ms   rows ${rows}`);
    if (process.argv.includes("--plans")) for (const line of describe(plan!.Plan)) console.log(`      ${line}`);
  }
  await disconnectDb();
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error)));
