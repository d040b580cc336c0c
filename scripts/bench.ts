// `npm run bench`: measures the key service on this machine and prints a table (and writes a
// JSON file). It is a measurement, not a test: it never fails on a slow figure, only when
// something does not work. `npm run bench -- --smoke` is the short run CI does.
//
// What runs: a fresh database on the PostgreSQL server of TEST_DATABASE_URL (default
// 127.0.0.1:5432), the development KMS in this process, key-service processes
// (`npm run keyservice`, the same handler `npm start` routes /api/v1 to), and autocannon as the
// load generator in this process, on loopback. A bare node:http server answering a fixed body
// is measured by the same load generator in the same run, as the machine's ceiling.
//
// Each scenario also reports CPU time per operation (tests/helpers/cpu.ts): what the
// key-service process and the PostgreSQL backends serving it spent, from /proc, divided by the
// requests answered. Throughput swings with whatever else the machine runs; CPU µs per
// operation holds still, so targets are judged by it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { getConfig, installConfig } from "@/lib/config";
import { disconnectDb } from "@/lib/db";
import { closePool } from "@/lib/db/pool";
import { DEV_KMS_VENDOR } from "@/lib/dev/kms/defaults";
import { restoreAccess, revokeAccess } from "@/lib/keys";
import { CpuMeter, processTree } from "../tests/helpers/cpu";
import { createTestDatabase } from "../tests/helpers/db";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../tests/helpers/key-service";

type Args = { duration: number; connections: number; revocations: number; workers: number; tenants: number; out: string; smoke: boolean; profile: string | null };

function parseArgs(argv: string[]): Args {
  const smoke = argv.includes("--smoke");
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
    return n;
  };
  const outIndex = argv.indexOf("--out");
  const profileIndex = argv.indexOf("--profile");
  return {
    smoke,
    // A folder for the measured key service's V8 CPU profile (node --cpu-prof), written when it stops.
    profile: profileIndex >= 0 ? path.resolve(argv[profileIndex + 1]!) : null,
    duration: value("duration", smoke ? 2 : 10),
    connections: value("connections", 16),
    revocations: value("revocations", smoke ? 5 : 25),
    // Processes of the measured key service (KEYSERVICE_WORKERS): one per core of this machine.
    workers: value("workers", 2),
    // Tenants of the many-tenant scenario.
    tenants: value("tenants", smoke ? 20 : 1000),
    out: outIndex >= 0 ? argv[outIndex + 1]! : path.join(".custody", "bench", "results.json"),
  };
}

type Cpu = { serviceMicrosPerOp: number; databaseMicrosPerOp: number; totalMicrosPerOp: number };
type LoadResult = { requestsPerSecond: number; p50Ms: number; p99Ms: number; requests: number; errors: number; non2xx: number; cpu?: Cpu };

type LoadOptions = { url: string; duration: number; connections: number; method?: "GET" | "POST"; body?: string; token?: string; bodies?: string[] };

async function load(options: LoadOptions): Promise<LoadResult> {
  // Several bodies (the many-tenant scenario): each request takes the next, round the list.
  let next = 0;
  const { bodies } = options;
  const result = await autocannon({
    url: options.url,
    duration: options.duration,
    connections: options.connections,
    method: options.method ?? "GET",
    body: options.body ?? bodies?.[0],
    headers: options.body || bodies ? { "content-type": "application/json", authorization: `Bearer ${options.token}` } : {},
    ...(bodies ? { requests: [{ setupRequest: (request: object) => ({ ...request, body: bodies[next++ % bodies.length] }) }] } : {}),
  });
  return {
    requestsPerSecond: Math.round(result.requests.total / options.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** A bare node:http server answering a fixed JSON body, in its own process like the key service. */
async function bareServer(): Promise<{ url: string; pid: number; stop(): void }> {
  const code = `const s=require("node:http").createServer((q,r)=>{q.resume();r.writeHead(200,{"content-type":"application/json","content-length":"11"});r.end('{"ok":true}')});s.keepAliveTimeout=65000;s.listen(0,"127.0.0.1",()=>console.log("port "+s.address().port))`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      const match = /port (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", () => reject(new Error("the bare server exited")));
  });
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid!, stop: () => void child.kill() };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function expectOk(result: Promise<{ status: number; body: unknown }>, what: string) {
  const r = await result;
  if (r.status !== 200) throw new Error(`${what} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** Polls one instance with unwraps until it refuses with access_revoked; the time that happened (never rejects). */
async function refusedAt(instance: KeyServiceInstance, token: string, body: unknown, deadline: number): Promise<number | Error> {
  try {
    for (;;) {
      const result = await api(instance.url, token, "unwrap", body);
      if (result.body.error?.code === "access_revoked") return performance.now();
      if (result.status !== 200) return new Error(`unexpected answer while waiting for the revocation: ${result.status} ${result.body.error?.code}`);
      if (performance.now() > deadline) return Infinity;
    }
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Resident memory of these processes, from /proc (0 without it). */
function residentBytes(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const kib = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return sum + Number(kib ?? 0) * 1024;
    } catch {
      return sum;
    }
  }, 0);
}

/** Runs `task` for 0..n-1, `parallel` at a time. */
async function inParallel(n: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, parallel) }, async () => {
    while (next < n) await task(next++);
  }));
}

/**
 * `n` tenants with a verified key each and an EDEK each (wrapped through the service, so every
 * tenant is leased): the unwrap bodies of all but the first, and the first, which is revoked
 * in the middle of the run.
 */
async function manyTenants(fixture: KeyServiceFixture, instance: KeyServiceInstance, token: string, n: number) {
  const before = fixture.kms.calls().Decrypt ?? 0;
  const bodies: string[] = new Array(n);
  const tenants: TenantWithKey[] = new Array(n);
  await inParallel(n, 4, async (i) => {
    // A busy machine can run a verification past its transaction's time limit: try again under another slug.
    let tenant: TenantWithKey | null = null;
    for (let attempt = 0; !tenant; attempt++) {
      tenant = await fixture.tenantWithKey(`bench-many-${i}${attempt ? `-${attempt}` : ""}`).catch((error: unknown) => {
        if (attempt >= 2) throw error;
        return null;
      });
    }
    const wrapped = await expectOk(api<{ edek: string }>(instance.url, token, "wrap", { tenantId: tenant.tenantId, metadata: { dataLabel: "bench" } }), "wrap");
    tenants[i] = tenant;
    bodies[i] = JSON.stringify({ tenantId: tenant.tenantId, edek: (wrapped.body as { edek: string }).edek, metadata: { dataLabel: "bench", objectId: `obj-${i}`, reason: "benchmark" } });
  });
  return {
    bodies: bodies.slice(1),
    revoked: { admin: tenants[0]!.admin, tenantId: tenants[0]!.tenantId, body: JSON.parse(bodies[0]!) as unknown },
    setupDecrypts: (fixture.kms.calls().Decrypt ?? 0) - before,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const say = (line: string) => console.log(`[bench] ${line}`);
  say(`${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${args.duration}s per run, ${args.connections} connections, ${args.workers} key-service worker(s)`);

  const database = await createTestDatabase();
  // Custody's AWS principal is the development KMS's vendor role, as the fixture's key service runs it.
  installConfig({ ...getConfig(), DATABASE_URL: database.url, KMS_VENDOR_PRINCIPAL_ARN: DEV_KMS_VENDOR.arn });
  const fixture = await KeyServiceFixture.start(database.url);
  const bare = await bareServer();
  try {
    const tenant = await fixture.tenantWithKey("bench");
    const { token } = await fixture.credential({ name: "bench" });
    const instance = await fixture.instance({ KEYSERVICE_WORKERS: String(args.workers) }, args.profile ? ["--cpu-prof", "--cpu-prof-dir", args.profile] : []);
    // The service's processes: the instance and, with workers, its cluster workers.
    const servicePids = () => processTree(instance.process.pid!);
    const decrypts = () => fixture.kms.calls().Decrypt ?? 0;
    const kmsBefore = decrypts();

    const wrapped = await expectOk(api<{ edek: string }>(instance.url, token, "wrap", { tenantId: tenant.tenantId, metadata: { dataLabel: "bench" } }), "wrap");
    const edek = (wrapped.body as { edek: string }).edek;
    const unwrapBody = JSON.stringify({ tenantId: tenant.tenantId, edek, metadata: { dataLabel: "bench", objectId: "obj-1", actor: "user:bench", reason: "benchmark" } });
    const wrapBody = JSON.stringify({ tenantId: tenant.tenantId, metadata: { dataLabel: "bench", objectId: "obj-1", reason: "benchmark" } });
    const batchBody = JSON.stringify({
      tenantId: tenant.tenantId,
      metadata: { reason: "benchmark" },
      items: Array.from({ length: 100 }, (_, i) => ({ edek, dataLabel: "bench", objectId: `obj-${i}` })),
    });
    await expectOk(api(instance.url, token, "batch-unwrap", batchBody), "batch-unwrap");

    // CPU per request: the key-service process and its backends (its pool, its listener and its
    // Prisma client, which all name themselves). This process's own Prisma connections share the
    // last name, so they are closed for the measured runs (getDb() reconnects afterwards).
    const meter = new CpuMeter(database.url, servicePids, ["custody", "custody-keyservice", "custody-listener"]);
    await disconnectDb();
    const measured = async (run: () => Promise<LoadResult>): Promise<LoadResult> => {
      const before = await meter.sample();
      const result = await run();
      const spent = CpuMeter.spent(before, await meter.sample());
      const ops = Math.max(1, result.requests);
      const round = (micros: number) => Math.round(micros / ops);
      return { ...result, cpu: { serviceMicrosPerOp: round(spent.serviceMicros), databaseMicrosPerOp: round(spent.databaseMicros), totalMicrosPerOp: round(spent.totalMicros) } };
    };

    // Warm up the JIT on both servers before measuring.
    await load({ url: bare.url, duration: 1, connections: args.connections });
    await load({ url: `${instance.url}/api/v1/unwrap`, method: "POST", body: unwrapBody, token, duration: 1, connections: args.connections });

    say("bare node:http server …");
    const bareMeter = new CpuMeter(database.url, () => [bare.pid], []);
    const bareBefore = await bareMeter.sample();
    const bareLoad = await load({ url: bare.url, duration: args.duration, connections: args.connections });
    const bareMicros = CpuMeter.spent(bareBefore, await bareMeter.sample()).serviceMicros;
    const bareOps = Math.max(1, bareLoad.requests);
    const bareResult: LoadResult = { ...bareLoad, cpu: { serviceMicrosPerOp: Math.round(bareMicros / bareOps), databaseMicrosPerOp: 0, totalMicrosPerOp: Math.round(bareMicros / bareOps) } };
    say("unwrap …");
    const unwrap = await measured(() => load({ url: `${instance.url}/api/v1/unwrap`, method: "POST", body: unwrapBody, token, duration: args.duration, connections: args.connections }));
    say(`unwrap at ${args.connections * 4} connections (saturation) …`);
    const unwrapSaturated = await measured(() => load({ url: `${instance.url}/api/v1/unwrap`, method: "POST", body: unwrapBody, token, duration: args.duration, connections: args.connections * 4 }));
    say("wrap …");
    const wrap = await measured(() => load({ url: `${instance.url}/api/v1/wrap`, method: "POST", body: wrapBody, token, duration: args.duration, connections: args.connections }));
    say("batch-unwrap of 100 …");
    const batch = await measured(() => load({ url: `${instance.url}/api/v1/batch-unwrap`, method: "POST", body: batchBody, token, duration: args.duration, connections: Math.min(args.connections, 8) }));
    const kmsCalls = decrypts() - kmsBefore;

    // A noisy neighbour: one tenant sends 20 concurrent 1,000-item batch-wraps without pause
    // while another tenant's single unwraps go on beside them; the victim's p99 is the figure.
    say("flood: 20 concurrent 1,000-item batch-wraps by one tenant, single unwraps by another …");
    const flooder = await fixture.tenantWithKey("bench-flood");
    const floodBody = JSON.stringify({
      tenantId: flooder.tenantId,
      metadata: { reason: "benchmark" },
      items: Array.from({ length: 1000 }, (_, i) => ({ dataLabel: "bulk", objectId: `bulk-${i}` })),
    });
    const [flood, victim] = await Promise.all([
      load({ url: `${instance.url}/api/v1/batch-wrap`, method: "POST", body: floodBody, token, duration: args.duration, connections: 20 }),
      load({ url: `${instance.url}/api/v1/unwrap`, method: "POST", body: unwrapBody, token, duration: args.duration, connections: 4 }),
    ]);

    say(`${args.tenants} tenants: creating them, their keys and an EDEK each …`);
    const many = await manyTenants(fixture, instance, token, args.tenants);
    const memoryBefore = residentBytes(servicePids());
    const kmsBeforeMany = decrypts();
    say(`${args.tenants} tenants: unwraps spread across them, one revoked halfway …`);
    const revokeHalfway = (async () => {
      await new Promise((resolve) => setTimeout(resolve, (args.duration * 1000) / 2));
      const click = performance.now();
      await revokeAccess(many.revoked.admin, { tenantId: many.revoked.tenantId });
      const seen = await refusedAt(instance, token, many.revoked.body, click + 5000);
      if (seen instanceof Error) throw seen;
      return seen - click;
    })();
    const spread = await measured(() => load({ url: `${instance.url}/api/v1/unwrap`, method: "POST", bodies: many.bodies, token, duration: args.duration, connections: args.connections }));
    const manyRevocationMs = Math.round(await revokeHalfway);
    const manyKmsCalls = decrypts() - kmsBeforeMany + many.setupDecrypts;
    const memoryPerTenant = Math.round((residentBytes(servicePids()) - memoryBefore) / args.tenants);

    const { getDb } = await import("@/lib/db");
    const audited = await getDb().auditEvent.count({ where: { tenantId: tenant.tenantId, actorType: "SERVICE" } });

    say(`revocation across three instances (${args.revocations} times) …`);
    const three = [instance, await fixture.instance(), await fixture.instance()];
    const revoked = await fixture.tenantWithKey("bench-revoke");
    const revokedWrap = await expectOk(api<{ edek: string }>(instance.url, token, "wrap", { tenantId: revoked.tenantId, metadata: { dataLabel: "bench" } }), "wrap");
    const revokedBody = { tenantId: revoked.tenantId, edek: (revokedWrap.body as { edek: string }).edek, metadata: { dataLabel: "bench" } };
    const fromClick: number[] = [];
    const fromCommit: number[] = [];
    for (let round = 0; round < args.revocations; round++) {
      if (round > 0) {
        const restored = await restoreAccess(revoked.admin, { tenantId: revoked.tenantId });
        if (!restored.restored) throw new Error("restore failed");
      }
      // Every instance holds the tenant's lease and cached state before the click.
      for (const i of three) await expectOk(api(i.url, token, "unwrap", revokedBody), "warm-up unwrap");
      const click = performance.now();
      const deadline = click + 5000;
      const pollers = three.map((i) => refusedAt(i, token, revokedBody, deadline));
      const result = await revokeAccess(revoked.admin, { tenantId: revoked.tenantId });
      const committed = click + result.tookMs;
      const seen = await Promise.all(pollers);
      const failed = seen.find((s) => s instanceof Error);
      if (failed) throw failed;
      const last = Math.max(...(seen as number[]));
      fromClick.push(last - click);
      fromCommit.push(Math.max(0, last - committed));
    }

    const results = {
      machine: { cpus: os.cpus().length, node: process.version, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      settings: { durationSeconds: args.duration, connections: args.connections, batchConnections: Math.min(args.connections, 8), workers: args.workers },
      bare: bareResult,
      unwrap: { ...unwrap, ratioToBare: Number((unwrap.requestsPerSecond / bareResult.requestsPerSecond).toFixed(3)) },
      unwrapSaturated: { ...unwrapSaturated, connections: args.connections * 4 },
      wrap,
      batchUnwrap100: { ...batch, itemsPerSecond: batch.requestsPerSecond * 100 },
      kms: { decryptCalls: kmsCalls, tenants: 1, note: "Decrypt calls made by the measured instance during all runs (one lease per tenant key)" },
      flood: { flooderBatchWraps: flood, victimUnwraps: victim },
      manyTenants: {
        tenants: args.tenants,
        unwrap: spread,
        kmsDecryptCalls: manyKmsCalls,
        note: "Decrypt calls for the setup wraps and the spread unwraps (one lease per tenant key and worker)",
        residentBytesPerLeasedTenant: memoryPerTenant,
        revocationMidLoadMs: manyRevocationMs,
      },
      auditedServiceEvents: audited,
      revocation: {
        rounds: args.revocations,
        instances: three.length,
        clickToLastRefusalMs: { p50: Math.round(percentile(fromClick, 50)), p99: Math.round(percentile(fromClick, 99)), max: Math.round(Math.max(...fromClick)) },
        commitToLastRefusalMs: { p50: Math.round(percentile(fromCommit, 50)), p99: Math.round(percentile(fromCommit, 99)) },
      },
    };

    const cpu = (r: LoadResult) => (r.cpu ? `   CPU ${String(r.cpu.totalMicrosPerOp).padStart(5)} µs/op (service ${r.cpu.serviceMicrosPerOp} + PostgreSQL ${r.cpu.databaseMicrosPerOp})` : "");
    const row = (name: string, r: LoadResult, extra = "") =>
      `  ${name.padEnd(22)} ${String(r.requestsPerSecond).padStart(8)}/s   p50 ${String(r.p50Ms).padStart(5)} ms   p99 ${String(r.p99Ms).padStart(5)} ms   errors ${r.errors + r.non2xx}${cpu(r)}${extra}`;
    console.log("");
    console.log(row("bare node:http", bareResult));
    console.log(row("unwrap (audited)", unwrap, `   ${(results.unwrap.ratioToBare * 100).toFixed(1)}% of bare`));
    console.log(row(`unwrap, ${args.connections * 4} conns`, unwrapSaturated));
    console.log(row("wrap (audited)", wrap));
    console.log(row("batch-unwrap x100", batch, `   ${results.batchUnwrap100.itemsPerSecond} items/s, ${Math.round((batch.cpu?.totalMicrosPerOp ?? 0) / 100)} µs/item`));
    console.log(`  KMS Decrypt calls      ${kmsCalls} for 1 tenant (${unwrap.requests + unwrapSaturated.requests + wrap.requests + batch.requests} requests)`);
    console.log(row("flood: victim unwraps", victim, `   beside ${flood.requestsPerSecond * 1000} flood items/s (${flood.requestsPerSecond} batch-wraps/s, p99 ${flood.p99Ms} ms)`));
    console.log(row(`unwrap, ${args.tenants} tenants`, spread));
    console.log(
      `  ${args.tenants} tenants: KMS Decrypt calls ${manyKmsCalls} (${args.workers} workers), ${(memoryPerTenant / 1024).toFixed(1)} KiB resident per leased tenant, a revocation mid-load refused after ${manyRevocationMs} ms`,
    );
    console.log(`  audited service events ${audited}`);
    console.log(
      `  revocation, 3 instances, ${args.revocations} rounds: click → last refusal p50 ${results.revocation.clickToLastRefusalMs.p50} ms, p99 ${results.revocation.clickToLastRefusalMs.p99} ms (commit → last refusal p50 ${results.revocation.commitToLastRefusalMs.p50} ms, p99 ${results.revocation.commitToLastRefusalMs.p99} ms)`,
    );
    console.log("");
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
    say(`wrote ${args.out}`);
    const failures = [unwrap, unwrapSaturated, wrap, batch, flood, victim, spread].reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    if (failures > 0 || !Number.isFinite(results.revocation.clickToLastRefusalMs.max)) {
      throw new Error(`${failures} requests failed or a revocation was not seen within 5 s`);
    }
  } finally {
    bare.stop();
    await fixture.close();
    await closePool();
    await disconnectDb();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
