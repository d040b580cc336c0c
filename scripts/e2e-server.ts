// Starts Custody for the Playwright run: a fresh database on the test PostgreSQL server,
// the development IdP with the e2e users added, and the production build (built if needed).
import fs from "node:fs";
import path from "node:path";
import { startCustody } from "../lib/server/start-custody";
import { stopOnSignals } from "../lib/server/stop-on-signals";
import { createTestDatabase } from "../tests/helpers/db";

async function main(): Promise<void> {
  const database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fs.mkdirSync(".custody/e2e", { recursive: true });
  fs.writeFileSync(".custody/e2e/database-name", new URL(database.url).pathname.slice(1));
  process.env.DEV_IDP_USERS_FILE = path.resolve("e2e/users.json");
  process.env.CUSTODY_DEMO = "true";
  // Verify waits out AWS propagation for five minutes in production; a few seconds here, so
  // the keys spec sees the "still trying" progress and then the refusal.
  process.env.KMS_VERIFY_WAIT_SECONDS ??= "4";
  // The log-sink specs start their receivers on loopback, which the demo allows; plain http://
  // it allows too, but the specs check the https rule as production has it.
  process.env.SINK_ALLOW_PRIVATE_TARGETS ??= "true";
  process.env.SINK_ALLOW_HTTP ??= "false";
  const custody = await startCustody().catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  stopOnSignals("the e2e server", () => custody.stop().then(database.drop));
}

main().catch((error: unknown) => {
  console.error(`[e2e-server] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
