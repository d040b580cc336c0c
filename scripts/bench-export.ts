// `npx tsx --conditions=react-server scripts/bench-export.ts [--tenant <slug>] [--format csv|jsonl]
// [--filter "<query string>"] [--batch N] [--max N]`: how fast the audit export streams a tenant's trail
// on the database at DATABASE_URL (fill one first with `npm run seed:audit`), and how much
// memory it takes. Runs the export's streaming core (the same keyset reader and formatting
// the route uses) into a sink that discards the bytes, as fast as the sink takes them; records
// no audit event, so it is read-only. --max stops after N events (cancelling the stream, as a
// client that goes away does). Prints time to first byte, events/s, MB/s and peak RSS.
// Measures; does not judge.
import { exportStream } from "@/lib/audit/export/export-stream";
import { estimateExportSize } from "@/lib/audit/export/export";
import { parseAuditQuery } from "@/lib/audit/query/filter";
import { streamAuditEvents } from "@/lib/audit/query/query";
import { getConfig } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";

function fail(message: string): never {
  console.error(`bench:export: ${message}`);
  process.exit(2);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  if (!getConfig().DATABASE_URL) fail("set DATABASE_URL to the database to measure");
  const slug = arg("tenant") ?? "bulk";
  const format = arg("format") ?? "csv";
  if (format !== "csv" && format !== "jsonl") fail("--format must be csv or jsonl");
  const batch = Number(arg("batch") ?? 1_000);
  const max = Number(arg("max") ?? Infinity);
  const { query, problems } = parseAuditQuery(new URLSearchParams(arg("filter") ?? ""));
  if (problems.length > 0) fail(problems.map((p) => `${p.field}: ${p.message}`).join("; "));
  const tenant = await getDb().tenant.findUnique({ where: { slug }, select: { id: true } });
  if (!tenant) fail(`no tenant "${slug}"`);

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const baseRss = process.memoryUsage().rss;

  const estimateStart = performance.now();
  const estimate = await estimateExportSize(tenant.id, query.filter);
  const estimateMs = performance.now() - estimateStart;

  const start = performance.now();
  let firstByteMs = 0;
  let events = 0;
  let outcome = "";
  const body = exportStream(streamAuditEvents(tenant.id, query.filter, batch), format, {
    onEnd: (end) => {
      events = end.events;
      outcome = end.outcome;
    },
  });
  const reader = body.getReader();
  let bytes = 0;
  let lines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes === 0) firstByteMs = performance.now() - start;
    bytes += value.byteLength;
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines += 1;
    if (lines > max) {
      await reader.cancel();
      break;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const fmt = (n: number) => Math.round(n).toLocaleString("en");
  console.log(`bench:export: tenant ${slug}, ${format}, filter "${arg("filter") ?? ""}", batches of ${batch}`);
  console.log(`  estimate        ${fmt(estimate.events)} (${estimate.exact ? "exact" : "planner"}) in ${estimateMs.toFixed(1)} ms`);
  console.log(`  first byte      ${firstByteMs.toFixed(1)} ms`);
  console.log(`  exported        ${fmt(events)} events, ${(bytes / MB).toFixed(1)} MB in ${seconds.toFixed(1)} s (${outcome})`);
  console.log(`  rate            ${fmt(events / seconds)} events/s, ${(bytes / MB / seconds).toFixed(1)} MB/s`);
  console.log(`  RSS             ${(baseRss / MB).toFixed(0)} MB at start, ${(peakRss / MB).toFixed(0)} MB peak`);
  await disconnectDb();
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
