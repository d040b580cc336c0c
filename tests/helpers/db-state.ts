import pg from "pg";

// A fingerprint of a database's state, one hash per table, for "a refusal changed nothing":
// plain pg, so the Playwright suites can use it too. Tables whose rows follow from audit events
// or reads (the trail, sinks' queues, usage counters) are left out: a refused request may add
// to those, never to the others. Last-used times are bookkeeping of who called, not a change.

const DERIVED_TABLES = ["audit_events", "audit_chains", "_prisma_migrations", "sink_deliveries", "sink_delivery_stats", "fleet_usage"];
const derived = (table: string) => DERIVED_TABLES.includes(table) || table.startsWith("audit_usage_");

export type DbState = Record<string, string>;

/** One hash per table (bar the derived ones and `ignore`) of everything a refusal must leave as it was. */
export async function snapshotState(databaseUrl: string, ignore: readonly string[] = []): Promise<DbState> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    const state: DbState = {};
    for (const { tablename } of rows) {
      if (derived(tablename) || ignore.includes(tablename)) continue;
      const table = pg.escapeIdentifier(tablename);
      const row = "(to_jsonb(t) - 'last_used_at')::text";
      const { rows: hash } = await client.query<{ h: string | null }>(`SELECT md5(string_agg(${row}, '|' ORDER BY ${row})) AS h FROM ${table} t`);
      state[tablename] = hash[0]?.h ?? "empty";
    }
    return state;
  } finally {
    await client.end();
  }
}

/** The tables whose hash differs. */
export function changedTables(before: DbState, after: DbState): string[] {
  return Object.keys(after).filter((table) => after[table] !== before[table]);
}
