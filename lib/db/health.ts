import pg from "pg";
import { getConfig } from "@/lib/config";
import { errorFields, log } from "@/lib/log";
import { isDatabaseUnavailable } from "./unavailable";

// What this process knows about its database's reachability. Any code that meets an outage
// error reports it here (the pools' connection listeners, the console's request-error hook, the
// key service); from then on a probe connects every PROBE_MS until the database answers, and
// until it does the console answers "Custody cannot reach its database" (503) at once instead of
// sending each request into a connection attempt. Readiness (/api/health/ready) asks the
// database directly, every time.

const PROBE_MS = 250;
const PROBE_TIMEOUT_MS = 1_000;
const logger = log.child({ component: "database" });

type HealthState = { downSince: number | null; probing: boolean; stopped: boolean };
// Shared through globalThis: `npm start` loads lib/ in two module copies (the server's and Next's).
const globalForHealth = globalThis as unknown as { custodyDatabaseHealth?: HealthState };
const state: HealthState = (globalForHealth.custodyDatabaseHealth ??= { downSince: null, probing: false, stopped: false });

/** Reports an error met while using the database; only outage errors change anything. */
export function noteDatabaseError(error: unknown): void {
  if (!isDatabaseUnavailable(error)) return;
  if (state.downSince === null) {
    state.downSince = Date.now();
    logger.warn(errorFields(error), "the database is unreachable; answering 503 until it is back");
  }
  if (!state.probing && !state.stopped) {
    state.probing = true;
    void probeUntilReachable();
  }
}

/** Whether the database is believed reachable (no outage seen since the last successful probe). */
export function databaseBelievedReachable(): boolean {
  return state.downSince === null;
}

/** Stops the background probe (process shutdown). */
export function stopDatabaseHealth(): void {
  state.stopped = true;
}

/** Connects afresh and runs SELECT 1, within timeoutMs. */
export async function pingDatabase(timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return (await checkDatabase([], timeoutMs)).reachable;
}

export type DatabaseCheck = {
  reachable: boolean;
  /** Of the migrations asked about, those the database has not finished applying (null: not reachable). */
  missingMigrations: string[] | null;
};

/**
 * Connects afresh and, within timeoutMs, checks that the database answers and that every one of
 * `migrations` is applied (Prisma's _prisma_migrations: finished, not rolled back). A database
 * restored from an older backup, or a new release started before `npm run db:migrate`, is
 * reachable yet not ready.
 */
export async function checkDatabase(migrations: string[], timeoutMs = PROBE_TIMEOUT_MS): Promise<DatabaseCheck> {
  const url = getConfig().DATABASE_URL;
  if (!url) return { reachable: false, missingMigrations: null };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: "custody-health" });
  client.on("error", () => {});
  try {
    await client.connect();
    if (migrations.length === 0) {
      await client.query("SELECT 1");
      return { reachable: true, missingMigrations: [] };
    }
    const applied = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND migration_name = ANY($1::text[])`,
      [migrations],
    );
    const done = new Set(applied.rows.map((row) => row.migration_name));
    return { reachable: true, missingMigrations: migrations.filter((name) => !done.has(name)) };
  } catch (error) {
    // No _prisma_migrations table at all: reachable, nothing applied.
    if ((error as { code?: string }).code === "42P01") return { reachable: true, missingMigrations: migrations };
    return { reachable: false, missingMigrations: null };
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeUntilReachable(): Promise<void> {
  try {
    while (!state.stopped) {
      await new Promise((resolve) => setTimeout(resolve, PROBE_MS).unref());
      if (await pingDatabase()) {
        const downFor = state.downSince === null ? 0 : Date.now() - state.downSince;
        state.downSince = null;
        logger.info({ downForMs: downFor }, "the database is reachable again");
        return;
      }
    }
  } finally {
    state.probing = false;
  }
}
