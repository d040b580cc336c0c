import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "@/lib/db/migrate";

// Each test file gets its own throw-away database on the server named by TEST_DATABASE_URL
// (any database on it; we only connect there to CREATE/DROP). Names start with
// custody_test_ so leftovers from aborted runs are easy to spot and remove.

const DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Drops the database, terminating any connection still open to it. */
  drop: () => Promise<void>;
}

export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_SERVER_URL;
}

/** A fresh database with every migration applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  try {
    await applyMigrations(db.url);
  } catch (error) {
    await db.drop().catch(() => {});
    throw error;
  }
  return db;
}

/** A fresh, empty database (no migrations), for testing the migration runner itself. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `custody_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;

  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await withAdminClient(serverUrl, async (client) => {
      // Pools the test forgot to close would otherwise make DROP DATABASE fail.
      await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [name],
      );
      // FORCE (PostgreSQL 13+) also ends connections opened since the line above.
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    });
  };

  return { url: url.toString(), drop };
}

async function withAdminClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    const where = new URL(serverUrl);
    throw new Error(
      `Cannot reach the test PostgreSQL server at ${where.hostname}:${where.port || 5432} ` +
        `(set TEST_DATABASE_URL): ${(error as Error).message}`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
