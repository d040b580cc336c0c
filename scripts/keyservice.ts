// `npm run keyservice`: the key service alone (no console, no Next), for deployments that scale
// it apart from the console, and for the benchmark's extra instances. Shares the console's
// PostgreSQL database and KMS configuration; see ARCHITECTURE.md.
import { ConfigError, installConfig } from "../lib/config";
import { loadStartConfig } from "../lib/server/load-config";
import { runtimeNotice } from "../lib/server/runtime-notice";
import { stopOnSignals } from "../lib/server/stop-on-signals";

async function main(): Promise<void> {
  const env = installConfig(loadStartConfig("keyservice"));
  // Domain modules read the configuration on first use, so they load only now.
  const { closePool } = await import("../lib/db/pool");
  const { disconnectDb } = await import("../lib/db");
  const { applyMigrations } = await import("../lib/db/migrate");
  const { authFailureLimitsOf, startKeyService } = await import("../lib/keyservice");
  const { log } = await import("../lib/log");
  const { strictTransportSecurity } = await import("../lib/http/security-headers");
  const { stampRequest } = await import("../lib/http/stamp-request");
  const { HEALTH_PATH, handleHealth } = await import("../lib/server/health");
  const { createHttpServer, httpTimeoutsOf } = await import("../lib/server/http-timeouts");
  const notice = runtimeNotice();
  if (notice) console.log(`[custody] ${notice}`);
  await applyMigrations(env.DATABASE_URL!, { log: () => {} });
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
  log.info({ port }, "key service listening");
  console.log(`[custody] key service listening on http://${env.HOST ?? "127.0.0.1"}:${port}/api/v1`);
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
