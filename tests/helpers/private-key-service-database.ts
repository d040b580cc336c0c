import { vi } from "vitest";
import { disconnectDb } from "@/lib/db";
import { applyMigrations } from "@/lib/db/migrate";
import { closePool } from "@/lib/db/pool";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { KeyServiceFixture } from "./key-service";
import { PrivatePostgres } from "./private-postgres";

/**
 * A private PostgreSQL with one migrated database, this process pointed at it (DATABASE_URL)
 * and the key-service fixture on it: what the suites that restart PostgreSQL under Custody
 * share. `close()` undoes it all.
 */
export async function startPrivateKeyServiceDatabase(name: string): Promise<{
  server: PrivatePostgres;
  databaseUrl: string;
  fixture: KeyServiceFixture;
  close(): Promise<void>;
}> {
  const server = await PrivatePostgres.start();
  const databaseUrl = await server.createDatabase(name);
  await applyMigrations(databaseUrl, { log: () => {} });
  process.env.DATABASE_URL = databaseUrl;
  const fixture = await KeyServiceFixture.start(databaseUrl);
  return {
    server,
    databaseUrl,
    fixture,
    async close() {
      await fixture.close();
      await disconnectDb();
      await closePool();
      await server.close();
    },
  };
}

/**
 * Retries `work` while it fails for want of the database (PostgreSQL starting), for up to a
 * minute; any other error fails at once.
 */
export async function once<T>(work: () => Promise<T>): Promise<T> {
  const outcome = await vi.waitFor(
    async (): Promise<{ value: T } | { error: unknown }> => {
      try {
        return { value: await work() };
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        return { error };
      }
    },
    { timeout: 60_000, interval: 50 },
  );
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}
