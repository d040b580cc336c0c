import "server-only";
import pg from "pg";
import { getConfig } from "@/lib/config";
import { errorFields, log } from "@/lib/log";
import { noteDatabaseError } from "./health";
import { isDatabaseUnavailable } from "./unavailable";

// A plain node-postgres pool for the key service's hot path (group-committed audit inserts,
// key-state reads) and its LISTEN connection, where Prisma's query engine would cost more than
// the work itself. Everything else goes through the Prisma client in ./index.ts, whose driver
// adapter gets a pool made here too.

const globalForPool = globalThis as unknown as { custodyPool?: pg.Pool };
const logger = log.child({ component: "database" });

export function connectionString(): string {
  const url = getConfig().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start Custody with `npm start`");
  return url;
}

/** How long a new connection may take before the caller is told the database is unavailable. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A pool whose connections can never crash the process. node-postgres emits `error` on a
 * client whose connection the server drops (a restart, a failover, an administrator's
 * pg_terminate_backend); the pool listens only while a client is idle, and an `error` event with
 * no listener is thrown. So every client gets its own listener the moment it exists, for its
 * whole life: a checked-out client's query then fails with the error, its holder releases it
 * (destroyed, since the connection is gone) and the next checkout connects afresh.
 */
export function createPgPool(config: pg.PoolConfig & { name: string }): pg.Pool {
  const { name, ...options } = config;
  const pool = new pg.Pool({
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...options,
    application_name: options.application_name ?? name,
  });
  const onClientError = (error: Error) => {
    noteDatabaseError(error);
    if (isDatabaseUnavailable(error)) logger.warn({ pool: name, ...errorFields(error) }, "a database connection was lost; it will be replaced");
    else logger.error({ pool: name, ...errorFields(error) }, "a database connection failed");
  };
  pool.on("connect", (client) => client.on("error", onClientError));
  // Idle clients' errors reach the pool too (as well as the client's own listener above).
  pool.on("error", () => {});
  return pool;
}

export function getPool(): pg.Pool {
  if (!globalForPool.custodyPool) {
    globalForPool.custodyPool = createPgPool({
      name: "custody-keyservice",
      connectionString: connectionString(),
      max: 4,
      // Group commit writes JSON as string literals and relies on this (the default since 9.1).
      options: "-c standard_conforming_strings=on",
    });
  }
  return globalForPool.custodyPool;
}

export async function closePool(): Promise<void> {
  const pool = globalForPool.custodyPool;
  globalForPool.custodyPool = undefined;
  await pool?.end();
}
