// `npm run keyservice`: the key service alone (no console, no Next), for deployments that scale
// it apart from the console, and for the benchmark's extra instances. Shares the console's
// PostgreSQL database and KMS configuration; see ARCHITECTURE.md.
//
// One process per core (KEYSERVICE_WORKERS, default: the available cores): node:cluster workers
// sharing KEYSERVICE_PORT, each with its own pool, caches, leases, LISTEN connection and audit
// committer, so a revocation's NOTIFY reaches each of them like any other instance. The primary
// applies migrations, starts the workers, replaces one that dies, and stops them all on
// SIGTERM / SIGINT. With one worker the service runs in this process, without a primary.
import cluster, { type Worker } from "node:cluster";
import os from "node:os";
import { type Config, ConfigError, installConfig } from "../lib/config";
import { loadStartConfig } from "../lib/server/load-config";
import { runtimeNotice } from "../lib/server/runtime-notice";
import { stopOnSignals } from "../lib/server/stop-on-signals";

async function main(): Promise<void> {
  const env = installConfig(loadStartConfig("keyservice"));
  const workers = env.KEYSERVICE_WORKERS ?? os.availableParallelism();
  if (cluster.isPrimary) {
    const notice = runtimeNotice();
    if (notice) console.log(`[custody] ${notice}`);
    const { applyMigrations } = await import("../lib/db/migrate");
    await applyMigrations(env.DATABASE_URL!, { log: () => {} });
    if (workers > 1) return supervise(env, workers);
  }
  await serve(env);
}

/** One key service on KEYSERVICE_PORT: this process, or a cluster worker sharing the port. */
async function serve(env: Config): Promise<void> {
  // Domain modules read the configuration on first use, so they load only now.
  const { closePool } = await import("../lib/db/pool");
  const { disconnectDb } = await import("../lib/db");
  const { authFailureLimitsOf, startKeyService } = await import("../lib/keyservice");
  const { log } = await import("../lib/log");
  const { strictTransportSecurity } = await import("../lib/http/security-headers");
  const { stampRequest } = await import("../lib/http/stamp-request");
  const { HEALTH_PATH, handleHealth } = await import("../lib/server/health");
  const { createHttpServer, httpTimeoutsOf } = await import("../lib/server/http-timeouts");
  const keyService = await startKeyService({ leaseSeconds: env.KEY_LEASE_SECONDS, authLimits: authFailureLimitsOf(env) });
  const server = createHttpServer(httpTimeoutsOf(env), (req, res) => {
    stampRequest(req, res, env.TRUST_PROXY);
    const hsts = strictTransportSecurity(req, { trustProxy: env.TRUST_PROXY });
    if (hsts) res.setHeader("Strict-Transport-Security", hsts);
    if (HEALTH_PATH.test(req.url ?? "")) return handleHealth(req, res, { listener: () => keyService.service.listening });
    keyService.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.KEYSERVICE_PORT, env.HOST ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.KEYSERVICE_PORT;
  // Ctrl-C is handled before "listening" is announced, so a stop right after it is clean too.
  stopOnSignals("the key service", async () => {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await keyService.stop();
    await closePool();
    await disconnectDb();
  });
  // A worker's primary announces the service once every worker listens; a single process announces itself.
  if (cluster.isWorker) log.info({ port, worker: process.pid }, "key service worker listening");
  else console.log(`[custody] key service listening on http://${env.HOST ?? "127.0.0.1"}:${port}/api/v1`);
}

/** A worker that lived less than this and died is replaced only after RESTART_DELAY_MS (no tight crash loop). */
const EARLY_EXIT_MS = 5_000;
const RESTART_DELAY_MS = 1_000;

/** The primary: `count` workers, each replaced when it dies, all stopped on SIGTERM / SIGINT. */
async function supervise(env: Config, count: number): Promise<void> {
  const { log } = await import("../lib/log");
  let stopping = false;
  let announced = false;
  const startedAt = new Map<Worker, number>();
  const listening = new Set<Worker>();

  const fork = () => {
    if (stopping) return;
    startedAt.set(cluster.fork(), Date.now());
  };
  cluster.on("listening", (worker, address) => {
    listening.add(worker);
    if (announced || listening.size < count) return;
    announced = true;
    log.info({ port: address.port, workers: count }, "key service listening");
    console.log(`[custody] key service listening on http://${env.HOST ?? "127.0.0.1"}:${address.port}/api/v1 (${count} workers)`);
  });
  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    listening.delete(worker);
    // A worker stops with 0 only when told to (a signal it got with the primary, as Ctrl-C sends).
    if (stopping || (code === 0 && !signal)) return;
    log.error({ pid: worker.process.pid, code, signal }, "a key-service worker died; starting another");
    if (lived < EARLY_EXIT_MS) setTimeout(fork, RESTART_DELAY_MS);
    else fork();
  });
  for (let i = 0; i < count; i++) fork();

  stopOnSignals("the key service", async () => {
    stopping = true;
    const workers = [...startedAt.keys()];
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once("exit", () => resolve());
            worker.process.kill("SIGTERM");
          }),
      ),
    );
  });
}

main().catch(async (error: unknown) => {
  if (error instanceof ConfigError) console.error(`[custody] ${error.message}`);
  else {
    const { errorFields, log } = await import("../lib/log");
    log.error(errorFields(error), "the key service could not start");
    console.error(`[custody] the key service could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
