import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { getConfig } from "@/lib/config";
import { type Prisma, PrismaClient } from "./generated/client";
import { createPgPool } from "./pool";

export { Prisma } from "./generated/client";

/** An interactive transaction: what data-layer functions that write take. */
export type Tx = Prisma.TransactionClient;

// One client (one connection pool) per process, created on first use so that start-up
// can point DATABASE_URL at the embedded database (in the configuration it installs) before anything connects. The global
// survives Next's module reloading in development.
const globalForDb = globalThis as unknown as { custodyDb?: PrismaClient; custodyReadDb?: PrismaClient };

export function getDb(): PrismaClient {
  if (!globalForDb.custodyDb) {
    const { DATABASE_URL: connectionString, DATABASE_POOL_SIZE } = getConfig();
    if (!connectionString) throw new Error("DATABASE_URL is not set: start Custody with `npm start`");
    // Our own pool, so its connections carry the error listener that keeps a dropped connection
    // from crashing the process (lib/db/pool.ts); Prisma ends it on $disconnect.
    const pool = createPgPool({ name: "custody", connectionString, max: DATABASE_POOL_SIZE });
    const adapter = new PrismaPg(pool, { disposeExternalPool: true });
    // Prisma's defaults (2 s to get a connection, 5 s per transaction) refuse console changes
    // on a busy machine that would have succeeded a moment later; an outage is still noticed
    // within the pool's 5 s connect timeout.
    globalForDb.custodyDb = new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
  }
  return globalForDb.custodyDb;
}

/**
 * The client for the heavy console reads that need not see the caller's own latest write: audit
 * pages, exports, usage. On DATABASE_READ_URL (a streaming replica of the primary) when that is
 * set, else the primary itself. A replica lags by the time replication takes: what must read its
 * own writes, and what another write depends on, uses getDb().
 */
export function getReadDb(): PrismaClient {
  const { DATABASE_READ_URL: connectionString, DATABASE_POOL_SIZE } = getConfig();
  if (!connectionString) return getDb();
  if (!globalForDb.custodyReadDb) {
    const pool = createPgPool({ name: "custody-read", connectionString, max: DATABASE_POOL_SIZE });
    const adapter = new PrismaPg(pool, { disposeExternalPool: true });
    globalForDb.custodyReadDb = new PrismaClient({ adapter });
  }
  return globalForDb.custodyReadDb;
}

/**
 * Whether Prisma refused a write for a unique constraint (P2002). By code, not instanceof: the
 * client is shared through globalThis by the two module copies `npm start` loads.
 */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

export async function disconnectDb(): Promise<void> {
  const clients = [globalForDb.custodyDb, globalForDb.custodyReadDb];
  globalForDb.custodyDb = globalForDb.custodyReadDb = undefined;
  await Promise.all(clients.map((client) => client?.$disconnect()));
}
