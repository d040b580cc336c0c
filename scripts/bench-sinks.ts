// `npm run bench:sinks -- [--rate 1000] [--seconds 10] [--tenants 1000] [--smoke]`: how fast
// and how soon audit events reach log sinks. On a throw-away database (TEST_DATABASE_URL's
// server), each scenario gives every tenant one webhook sink pointed at a local receiver, starts
// 1 or 3 worker processes running the production log-sink job (scripts/bench-sinks-worker.ts:
// a pass, enqueue then deliver, on each audit commit and at least every second, real webhook
// transport, signed), appends events at a fixed rate spread over the tenants (the key service's
// group commit), and prints: events/s delivered, commit-to-receiver latency p50/p95/p99, and
// the workers' CPU per event. Measures; does not judge.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { AuditGroupCommitter } from "@/lib/audit/trail/group-commit";
import { getConfig, installConfig } from "@/lib/config";
import { childEnvironment } from "@/lib/config/environment";
import { disconnectDb, getDb } from "@/lib/db";
import { createPgPool } from "@/lib/db/pool";
import { createSink } from "@/lib/sinks";
import { processCpuMicros } from "../tests/helpers/cpu";
import { createTestDatabase } from "../tests/helpers/db";

const ROOT = path.resolve(__dirname, "..");
const request = { sourceIp: null, userAgent: null, requestId: null };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The receiver: answers 200 to every webhook POST and notes when each event arrived. */
async function startReceiver(arrived: Map<string, number>): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const now = performance.timeOrigin + performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events?: Array<{ id: string }> };
      for (const event of body.events ?? []) if (!arrived.has(event.id)) arrived.set(event.id, now);
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // Node itself with tsx's loader (not the tsx launcher, a second process): the pid measured is the worker's.
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/bench-sinks-worker.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
  });
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

async function scenario(options: { label: string; tenants: string[]; workers: number; rate: number; seconds: number; env: NodeJS.ProcessEnv; receiverUrl: string; arrived: Map<string, number>; databaseUrl: string }) {
  const { tenants, rate, seconds, arrived } = options;
  arrived.clear();
  const workers = await Promise.all(Array.from({ length: options.workers }, () => startWorker(options.env)));
  const cpu = () => workers.reduce((sum, worker) => sum + (processCpuMicros(worker.pid!) ?? 0), 0);
  const pool = createPgPool({ name: "custody-bench-producer", connectionString: options.databaseUrl, max: 4 });
  const committer = new AuditGroupCommitter(pool);
  const committed = new Map<string, number>();
  try {
    // Warm-up: the workers' first runs load and compile the job; one event through each first.
    const warmUp = await committer.append({ tenantId: tenants[0]!, actor: { type: "service", id: "bench", label: "bench" }, action: "key.unwrap", outcome: "success", request, details: { warmUp: true }, requiresAccess: false });
    const warmUpId = `${tenants[0]}:${warmUp.seq}`;
    const warmDeadline = Date.now() + 300_000;
    while (!arrived.has(warmUpId) && Date.now() < warmDeadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // every worker has run its job at least once
    arrived.clear();
    const cpuBefore = cpu();
    const total = rate * seconds;
    const started = performance.now();
    const appends: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const tenantId = tenants[i % tenants.length]!;
      appends.push(
        committer
          .append({ tenantId, actor: { type: "service", id: "bench", label: "bench" }, action: "key.unwrap", outcome: "success", request, details: { n: i }, requiresAccess: false })
          .then((result) => void committed.set(`${tenantId}:${result.seq}`, performance.timeOrigin + performance.now())),
      );
    }
    await Promise.all(appends);
    const producedIn = (performance.now() - started) / 1000;
    const deadline = Date.now() + 120_000;
    const delivered = () => [...committed.keys()].filter((id) => arrived.has(id)).length;
    while (delivered() < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const count = delivered();
    const cpuSpent = cpu() - cpuBefore;
    const latencies = [...committed].flatMap(([id, at]) => {
      const received = arrived.get(id);
      return received === undefined ? [] : [received - at];
    }).sort((a, b) => a - b);
    const first = Math.min(...committed.values());
    const last = Math.max(...[...committed.keys()].map((id) => arrived.get(id) ?? 0));
    const deliveredPerSecond = count / ((last - first) / 1000);
    console.log(
      `  ${options.label.padEnd(28)} ${String(Math.round(total / producedIn)).padStart(6)}/s in ${String(Math.round(deliveredPerSecond)).padStart(6)}/s out  ` +
        `${count === total ? "all" : `${count} of ${total}`} delivered  latency p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms  ` +
        `workers ${(cpuSpent / Math.max(count, 1)).toFixed(0)} µs CPU/event`,
    );
  } finally {
    await committer.close();
    await pool.end();
    await Promise.all(workers.map(stopWorker));
  }
}

async function main(): Promise<void> {
  const smoke = process.argv.includes("--smoke");
  const rate = Math.min(Math.max(Number(arg("rate") ?? (smoke ? 100 : 1000)), 1), 20_000);
  const seconds = Math.min(Math.max(Number(arg("seconds") ?? (smoke ? 2 : 10)), 1), 600);
  const fleet = Math.min(Math.max(Number(arg("tenants") ?? (smoke ? 10 : 1000)), 1), 10_000);
  const database = await createTestDatabase();
  const arrived = new Map<string, number>();
  const receiver = await startReceiver(arrived);
  const sinkKey = randomBytes(32).toString("base64");
  const env = childEnvironment({
    DATABASE_URL: database.url,
    SINK_SECRET_KEY: sinkKey,
    SINK_ALLOW_PRIVATE_TARGETS: "true",
    SINK_ALLOW_HTTP: "true",
    LOG_LEVEL: "warn",
  });
  try {
    installConfig({ ...getConfig(), DATABASE_URL: database.url, SINK_SECRET_KEY: sinkKey, SINK_ALLOW_PRIVATE_TARGETS: true, SINK_ALLOW_HTTP: true });
    const admin = await getDb().user.create({ data: { email: "bench@sinks.example" } });
    const caller = { userId: admin.id, request };
    const tenants: string[] = [];
    for (let i = 0; i < fleet; i++) {
      const tenant = await getDb().tenant.create({ data: { slug: `sinks-${i}`, name: `Sinks ${i}` } });
      await getDb().membership.create({ data: { tenantId: tenant.id, userId: admin.id, role: "ADMIN", acceptedAt: new Date() } });
      await createSink(caller, { tenantId: tenant.id, name: "siem", kind: "webhook", settings: { url: receiver.url } });
      tenants.push(tenant.id);
    }
    console.log(`log sinks: webhook to a local receiver, ${rate} events/s for ${seconds} s per scenario, the production job (woken by each commit)`);
    const common = { rate, seconds, env, receiverUrl: receiver.url, arrived, databaseUrl: database.url };
    await scenario({ ...common, label: "1 tenant, 1 worker", tenants: tenants.slice(0, 1), workers: 1 });
    await scenario({ ...common, label: "1 tenant, 3 workers", tenants: tenants.slice(0, 1), workers: 3 });
    await scenario({ ...common, label: `${fleet} tenants, 1 worker`, tenants, workers: 1 });
    await scenario({ ...common, label: `${fleet} tenants, 3 workers`, tenants, workers: 3 });
  } finally {
    await receiver.stop();
    await disconnectDb();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
