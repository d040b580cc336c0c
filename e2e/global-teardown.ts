import fs from "node:fs";
import pg from "pg";

// The web server drops its database when Playwright stops it with SIGTERM; if it could not
// (killed, crashed), scripts/e2e-server.ts left the name here and this drops it after the run.
export default async function globalTeardown(): Promise<void> {
  const file = ".custody/e2e/database-name";
  if (!fs.existsSync(file)) return;
  const name = fs.readFileSync(file, "utf8").trim();
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  fs.rmSync(file);
}
