import "server-only";
import pg from "pg";

// A plain node-postgres pool for the key service's hot path (group-committed audit inserts,
// key-state reads) and its LISTEN connection, where Prisma's query engine would cost more than
// the work itself. Everything else goes through the Prisma client in ./index.ts.

const globalForPool = globalThis as unknown as { custodyPool?: pg.Pool };

export function connectionString(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start Custody with `npm start`");
  return url;
}

export function getPool(): pg.Pool {
  if (!globalForPool.custodyPool) {
    const pool = new pg.Pool({
      connectionString: connectionString(),
      max: 4,
      application_name: "custody-keyservice",
      // Group commit writes JSON as string literals and relies on this (the default since 9.1).
      options: "-c standard_conforming_strings=on",
    });
    // An idle client's connection dropping must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    globalForPool.custodyPool = pool;
  }
  return globalForPool.custodyPool;
}

export async function closePool(): Promise<void> {
  const pool = globalForPool.custodyPool;
  globalForPool.custodyPool = undefined;
  await pool?.end();
}
