// Starts Custody for the Playwright run: a fresh database on the test PostgreSQL server,
// the development IdP with the e2e users added, and the production build (built if needed).
//
// The server owns its database: on SIGTERM (Playwright's webServer gracefulShutdown) it stops
// Custody, closing every pool, and only then drops the database. Playwright runs a config's
// globalTeardown *before* it stops the web server, so a teardown there would drop the database
// under a running server; there is none. A run killed before it could drop its database leaves
// the name in .custody/e2e/database-name, and the next run drops that database first.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { demoMode } from "../lib/dev/demo/demo-mode";
import { startCustody } from "../lib/server/start-custody";
import { stopOnSignals } from "../lib/server/stop-on-signals";
import { createTestDatabase, testServerUrl } from "../tests/helpers/db";
import { DATABASE_DUMP_FILE } from "./secrets-canary";

const NAME_FILE = ".custody/e2e/database-name";

/** Drops the database a previous run was killed before dropping (named in NAME_FILE). */
async function dropLeftover(): Promise<void> {
  if (!fs.existsSync(NAME_FILE)) return;
  const name = fs.readFileSync(NAME_FILE, "utf8").trim();
  if (name.startsWith("custody_test_")) {
    const client = new pg.Client({ connectionString: testServerUrl() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
  fs.rmSync(NAME_FILE);
}

/** The database as it stands, for the secrets scan (scripts/secrets-scan.ts); a failure is said, not fatal. */
function dumpDatabase(url: string): void {
  const dump = spawnSync("pg_dump", ["--no-owner", "--file", DATABASE_DUMP_FILE, "--dbname", url], { encoding: "utf8" });
  if (dump.status !== 0) console.error(`[e2e-server] pg_dump failed: ${(dump.stderr || dump.error?.message || "").trim()}`);
}

async function main(): Promise<void> {
  await dropLeftover();
  fs.rmSync(DATABASE_DUMP_FILE, { force: true });
  const database = await createTestDatabase();
  const drop = async () => {
    await database.drop();
    fs.rmSync(NAME_FILE, { force: true });
  };
  fs.mkdirSync(path.dirname(NAME_FILE), { recursive: true });
  fs.writeFileSync(NAME_FILE, new URL(database.url).pathname.slice(1));
  const custody = await startCustody(demoMode, {
    overrides: { DATABASE_URL: database.url, DEV_IDP_USERS_FILE: path.resolve("e2e/users.json"), CUSTODY_DEMO: "true" },
    defaults: {
      // Verify waits out AWS propagation for five minutes in production; a few seconds here, so
      // the keys spec sees the "still trying" progress and then the refusal.
      KMS_VERIFY_WAIT_SECONDS: "4",
      // Every browser of the run signs in from 127.0.0.1: limits above what the whole run does
      // there (the sign-in limit spec pushes past them from 127.0.0.2), but not off.
      SIGN_IN_ATTEMPTS_PER_IP: "200",
      SIGN_IN_FAILURES_PER_IP: "20",
      // The log-sink specs start their receivers on loopback, which the demo allows; plain
      // http:// it allows too, but the specs check the https rule as production has it.
      SINK_ALLOW_PRIVATE_TARGETS: "true",
      SINK_ALLOW_HTTP: "false",
    },
  }).catch(async (error: unknown) => {
    await drop();
    throw error;
  });
  // Pools closed first, then the database dropped: nothing of the server's is left to notice.
  // The dump for the secrets scan first: a stop that outlives Playwright's grace period is killed.
  stopOnSignals("the e2e server", () => {
    dumpDatabase(database.url);
    return custody.stop().then(drop);
  });
  // Playwright signals the whole process group and tsx relays the signal too, so SIGTERM comes
  // twice; stopOnSignals listens once, and the second would kill the server halfway through
  // its stop (before the drop). These keep the process alive until the stop is done.
  process.on("SIGTERM", () => {});
  process.on("SIGINT", () => {});
}

main().catch((error: unknown) => {
  console.error(`[e2e-server] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
