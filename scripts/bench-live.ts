// `npm run bench:live -- [--views 200] [--events 400] [--smoke]`: what open live audit views
// cost. On a throw-away database (TEST_DATABASE_URL's server) it appends events to one trail
// twice, first with no view open, then with N views of that trail open in this process, and
// prints per new event: the database reads the views made, the CPU this process and
// PostgreSQL's backends spent on the views (the second phase minus the first), and how soon
// after its commit an event reached the views (p50/p99 over every view). Measures; does not judge.
import { recordAuditEvent } from "@/lib/audit";
import { AuditLiveHub } from "@/lib/audit/live/live-hub";
import { getConfig, installConfig } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";
import { backendPids, processCpuMicros } from "../tests/helpers/cpu";
import { createTestDatabase } from "../tests/helpers/db";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const request = { sourceIp: null, userAgent: null, requestId: null };

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type Phase = { nodeMicros: number; databaseMicros: number };

/** Appends `events` events to the tenant's trail at about `perSecond`, returning each one's commit time by seq. */
async function appendEvents(tenantId: string, events: number, perSecond: number, committed: Map<bigint, number>): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const event = await recordAuditEvent({
      tenantId,
      actor: { type: "system", id: null, label: "bench" },
      action: "key.verified",
      outcome: "success",
      request,
      details: { n: i },
    });
    committed.set(event.seq, performance.now());
  }
}

async function measure(databaseUrl: string, work: () => Promise<void>): Promise<Phase> {
  const pids = await backendPids(databaseUrl, ["custody", "custody-audit-live"]);
  const cpu = () => pids.reduce((sum, pid) => sum + (processCpuMicros(pid) ?? 0), 0);
  const nodeBefore = process.cpuUsage();
  const databaseBefore = cpu();
  await work();
  const node = process.cpuUsage(nodeBefore);
  return { nodeMicros: node.user + node.system, databaseMicros: cpu() - databaseBefore };
}

async function main(): Promise<void> {
  const smoke = process.argv.includes("--smoke");
  const views = Math.min(Math.max(Number(arg("views") ?? (smoke ? 20 : 200)), 1), 500);
  const events = Math.min(Math.max(Number(arg("events") ?? (smoke ? 40 : 400)), 1), 100_000);
  const perSecond = 50;
  const database = await createTestDatabase();
  const hub = new AuditLiveHub({ connectionString: () => database.url, pollMs: 3_600_000, maxSubscribers: 1000 });
  try {
    installConfig({ ...getConfig(), DATABASE_URL: database.url });
    const tenantId = (await getDb().tenant.create({ data: { slug: "live-bench", name: "Live bench" } })).id;
    // Warm the pool to its working size, so both phases measure the same backends.
    await Promise.all(Array.from({ length: 4 }, () => getDb().$queryRaw`SELECT 1`));

    await appendEvents(tenantId, events, perSecond, new Map()); // warm-up: compiled code, prepared statements
    const quiet = await measure(database.url, () => appendEvents(tenantId, events, perSecond, new Map()));

    const head = (await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).seq;
    const latencies: number[] = [];
    const committed = new Map<bigint, number>();
    const seen = Array.from({ length: views }, () => head);
    for (let v = 0; v < views; v++) {
      hub.subscribe(tenantId, {}, head, (delivery) => {
        const now = performance.now();
        for (const event of delivery.events) {
          const at = committed.get(event.seq);
          if (at !== undefined) latencies.push(now - at);
        }
        seen[v] = delivery.examined;
      });
    }
    await until(() => hub.listening, "the LISTEN connection");
    const readsBefore = hub.reads;
    const watched = await measure(database.url, async () => {
      await appendEvents(tenantId, events, perSecond, committed);
      const last = [...committed.keys()].at(-1)!;
      await until(() => seen.every((seq) => seq >= last), "every view to have every event");
    });
    const reads = hub.reads - readsBefore;
    latencies.sort((a, b) => a - b);
    const perEvent = (micros: number) => (micros / events).toFixed(0);
    console.log(`${views} live views of one trail, ${events} events appended at ${perSecond}/s`);
    console.log(`  database reads by the views: ${reads} (${(reads / events).toFixed(2)} per event)`);
    console.log(`  CPU per event for the views: this process ${perEvent(watched.nodeMicros - quiet.nodeMicros)} µs, PostgreSQL ${perEvent(watched.databaseMicros - quiet.databaseMicros)} µs`);
    console.log(`  commit to view: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms over ${latencies.length} deliveries`);
  } finally {
    await hub.stop();
    await disconnectDb();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
