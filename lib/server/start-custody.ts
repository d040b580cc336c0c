// Custody in one process. With nothing configured it is the demo: an embedded PostgreSQL in
// .custody/, the development identity provider, and seeded demo data. With DATABASE_URL and
// OIDC_* set it is production: the same code, pointed at real services.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type Config, type Env, installConfig, isDemoMode, type LoadOptions } from "@/lib/config";
import { setLibraryEnvironment } from "@/lib/config/environment";
import { startEmbeddedPostgres } from "@/lib/db/embedded";
import { applyMigrations } from "@/lib/db/migrate";
import type { DemoMode } from "./demo-mode";
import { checkPorts, type NeededPort } from "./check-ports";
import { ensureBuild, nextBuild } from "./ensure-build";
import { httpTimeoutsOf } from "./http-timeouts";
import { loadStartConfig } from "./load-config";
import { runtimeNotice } from "./runtime-notice";

const say = (line: string) => console.log(`[custody] ${line}`);

function demoSecret(dataDir: string): string {
  const file = path.join(dataDir, "auth-secret");
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

export type RunningCustody = { url: string; stop: () => Promise<void> };

function missingDemoMode(): never {
  throw new Error("demo mode needs its development servers, which only the start scripts provide (npm start)");
}

/**
 * Starts everything `npm start` runs and returns a handle that stops it in reverse order.
 * Throws ConfigError on a bad environment, before anything starts. Demo mode's parts (lib/dev)
 * come from the start script: without them only a production start is possible. `options`
 * adjust what the environment says (the e2e server's own database and users).
 */
export async function startCustody(demoMode?: DemoMode, options: Omit<LoadOptions, "checks"> = {}): Promise<RunningCustody> {
  const env: Config = loadStartConfig("custody", options);
  // Each start adds its cleanup at the front, so stopping runs in reverse order of starting.
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  };
  try {
    return { ...(await launch(env, cleanups, demoMode)), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function launch(env: Config, cleanups: Array<() => Promise<unknown>>, demoMode: DemoMode | undefined): Promise<{ url: string }> {
  const dir = process.cwd();
  const dataDir = path.resolve(dir, env.CUSTODY_DATA_DIR);
  fs.mkdirSync(dataDir, { recursive: true });
  const demo = isDemoMode(env);
  const demoParts = () => demoMode ?? missingDemoMode();
  const publicUrl = env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`;
  // The demo's passwords are public: unless told otherwise it listens on loopback only.
  const host = env.HOST ?? (demo ? "127.0.0.1" : undefined);
  // What start-up decides (the embedded database's URL, the demo's IdP and KMS, its keys) is
  // added to the configuration, which is installed once, before any domain module loads.
  const decided: Partial<Env> = { NEXTAUTH_URL: publicUrl };
  setLibraryEnvironment({ NEXT_TELEMETRY_DISABLED: "1" });
  const notice = runtimeNotice();
  if (notice) say(notice);

  // Every port this start will listen on, checked before the database, the build or anything
  // slow, so a taken port costs a second, not a build, and says which variable moves it.
  const ports: NeededPort[] = [{ variable: "PORT", port: env.PORT, host, what: "Custody" }];
  if (!env.DATABASE_URL) ports.push({ variable: "EMBEDDED_PG_PORT", port: env.EMBEDDED_PG_PORT, host: "127.0.0.1", what: "the embedded PostgreSQL" });
  if (demo) {
    ports.push(
      { variable: "DEV_IDP_PORT", port: env.DEV_IDP_PORT, host, what: "the development identity provider" },
      { variable: "DEV_KMS_PORT", port: env.DEV_KMS_PORT, host: "127.0.0.1", what: "the development KMS" },
      { variable: "DEV_AZURE_KV_PORT", port: env.DEV_AZURE_KV_PORT, host: "127.0.0.1", what: "the development Azure Key Vault" },
    );
  }
  await checkPorts(ports);

  let databaseLabel = "PostgreSQL from DATABASE_URL";
  if (!env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pgdata"), port: env.EMBEDDED_PG_PORT, log: say });
    cleanups.unshift(pg.stop);
    decided.DATABASE_URL = pg.databaseUrl;
    databaseLabel = `embedded PostgreSQL (${path.relative(dir, path.join(dataDir, "pgdata"))}, port ${env.EMBEDDED_PG_PORT})`;
  }
  const databaseUrl = (decided.DATABASE_URL ?? env.DATABASE_URL)!;
  const { applied } = await applyMigrations(databaseUrl, { log: say });
  say(applied.length ? `applied migrations: ${applied.join(", ")}` : "database schema is up to date");

  // After the database, so a database problem shows at once rather than after a build.
  ensureBuild(dir, say, (at) => nextBuild(at, { DATABASE_URL: databaseUrl }));

  if (demo) {
    // Demo mode's parts load only now: production never runs (or even imports) the development IdP.
    const issuer = `http://localhost:${env.DEV_IDP_PORT}`;
    const idp = await demoParts().startIdp({ port: env.DEV_IDP_PORT, issuer, publicUrl, host, usersFile: env.DEV_IDP_USERS_FILE });
    cleanups.unshift(idp.close);
    // The development KMSs: each provider's real client library reaches its server by endpoint.
    const kms = await demoParts().startKms({ config: env, dataDir });
    cleanups.unshift(kms.close);
    Object.assign(decided, kms.settings);
    Object.assign(decided, {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: "custody",
      OIDC_CLIENT_SECRET: "custody-dev-secret",
      OIDC_NAME: "Custody dev IdP",
      NEXTAUTH_SECRET: env.NEXTAUTH_SECRET ?? demoSecret(dataDir),
    } satisfies Partial<Env>);
    // The demo signs audit checkpoints with a key it generates into its data folder on first
    // start, and likewise seals log-sink secrets.
    if (!env.AUDIT_SIGNING_KEY && !env.AUDIT_SIGNING_KEY_FILE) {
      decided.AUDIT_SIGNING_KEY_FILE = (await import("@/lib/audit/integrity/signing-key")).ensureDemoSigningKey(dataDir);
    }
    if (!env.SINK_SECRET_KEY && !env.SINK_SECRET_KEY_FILE) {
      decided.SINK_SECRET_KEY_FILE = (await import("@/lib/sinks/secrets")).ensureDemoSinkSecretKey(dataDir);
    }
    // The demo's receivers are local (a listener on this laptop): it may reach loopback and
    // plain http://. Said explicitly here, because the demo sets OIDC_ISSUER (its own IdP),
    // which lib/sinks/policy.ts would otherwise take for production.
    decided.SINK_ALLOW_PRIVATE_TARGETS = env.SINK_ALLOW_PRIVATE_TARGETS ?? true;
    decided.SINK_ALLOW_HTTP = env.SINK_ALLOW_HTTP ?? true;
  }
  const config = installConfig({ ...env, ...decided });
  // next-auth reads its URL from the environment itself (no option for it).
  setLibraryEnvironment({ NEXTAUTH_URL: publicUrl });

  // Domain modules read the configuration on first use, so they load only now.
  const { grantVendorAdmins } = await import("@/lib/auth/grant-vendor-admins");
  const granted = await grantVendorAdmins(env.CUSTODY_VENDOR_ADMINS);
  if (granted.length) say(`granted vendor-admin rights to ${granted.join(", ")}`);
  let demoKeys: string[] = [];
  let demoApi: { token: string; tenantId: string } | null = null;
  if (env.CUSTODY_SEED_DEMO ?? demo) {
    if (await demoParts().seed()) say("seeded the demo vendor admin and the Acme Corp tenant");
  }
  if (demo) {
    demoKeys = await demoParts().tenantKeys(config);
    demoApi = await demoParts().serviceToken(dataDir);
  }

  const { disconnectDb } = await import("@/lib/db");
  const { closePool } = await import("@/lib/db/pool");
  cleanups.unshift(disconnectDb, closePool);
  // Background jobs (lib/jobs): signed audit checkpoints, retention, usage rollups, fleet counts, log sinks.
  const { startBackgroundJobs } = await import("@/lib/jobs");
  const jobs = startBackgroundJobs(config);
  cleanups.unshift(jobs.stop);
  const { authFailureLimitsOf, startKeyService } = await import("@/lib/keyservice");
  const keyService = await startKeyService({ leaseSeconds: env.KEY_LEASE_SECONDS, authLimits: authFailureLimitsOf(env) });
  cleanups.unshift(keyService.stop);
  const { startCustodyServer } = await import("./http-server");
  const server = await startCustodyServer({
    port: env.PORT,
    host,
    trustProxy: env.TRUST_PROXY,
    publicUrlIsHttps: publicUrl.startsWith("https://"),
    timeouts: httpTimeoutsOf(env),
    keyService: keyService.handle,
    keyServiceListening: () => keyService.service.listening,
    jobsStatus: jobs.status,
  });
  cleanups.unshift(() => new Promise((resolve) => server.close(resolve)));
  // Live audit streams never end by themselves, so the server could not close: end them first.
  const { stopAuditLiveHub } = await import("@/lib/audit/live/live-hub");
  cleanups.unshift(stopAuditLiveHub);

  say(`database: ${databaseLabel}`);
  if (demo) say(`KMS: development KMS at ${config.KMS_ENDPOINT} (AWS SDK; customer account 111122223333; Custody assumes its role in 999988887777 through the same endpoint's STS)`);
  say(`sign-in: ${demo ? `development identity provider at ${config.OIDC_ISSUER}` : `OIDC issuer ${config.OIDC_ISSUER}`}`);
  console.log(`\n  Custody is running at ${publicUrl}\n`);
  if (demo) {
    console.log(`  Demo sign-ins (password for all: ${demoParts().password})`);
    console.log("    vendor@custody.example   vendor admin: tenants, onboarding, service credentials");
    console.log("    admin@acme.example       Acme Corp tenant admin");
    console.log("    auditor@acme.example     Acme Corp tenant auditor (read-only)");
    console.log("    outsider@example.com     signs in at the IdP, has no access here\n");
    if (demoKeys.length > 0) {
      for (const line of demoKeys) console.log(`  ${line}`);
      console.log("");
    }
    if (demoApi) {
      console.log(`  Key service: ${publicUrl}/api/v1 (OpenAPI: ${publicUrl}/api/v1/openapi.json)`);
      console.log(`  Acme's tenant id: ${demoApi.tenantId}`);
      console.log(`  Demo service credential (Acme only; also in ${path.relative(dir, path.join(dataDir, "demo-service-token"))}):`);
      console.log(`    ${demoApi.token}`);
      console.log("  Once Acme's key is verified, wrap a data key:");
      console.log(`    curl -s -H "Authorization: Bearer $(cat ${path.relative(dir, path.join(dataDir, "demo-service-token"))})" -H 'Content-Type: application/json' \\`);
      console.log(`      -d '{"tenantId":"${demoApi.tenantId}","metadata":{"dataLabel":"invoices","objectId":"inv-1","reason":"try it"}}' ${publicUrl}/api/v1/wrap\n`);
    }
  }
  return { url: publicUrl };
}
