import pg from "pg";

// A fingerprint of a database's state, one hash per table, for "a refusal changed nothing":
// plain pg, so the Playwright suites can use it too. Tables whose rows follow from audit events
// or reads (the trail, sinks' queues, usage counters) are left out: a refused request may add
// to those, never to the others. Last-used times are bookkeeping of who called, not a change.

// The trail is audit_events and its monthly partitions (audit_events_y2026m12, audit_events_default);
// audit_search and its watermarks are filled from it behind the chain.
const DERIVED_TABLES = ["audit_chains", "_prisma_migrations", "sink_deliveries", "sink_delivery_stats", "fleet_usage", "audit_search", "audit_search_watermarks"];
const derived = (table: string) =>
  DERIVED_TABLES.includes(table) || table === "audit_events" || table.startsWith("audit_events_") || table.startsWith("audit_usage_");

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

/**
 * The hashes of snapshotState, read after every one of thousands of calls without hashing the
 * whole database each time. Two cheap layers in front of the hashes:
 * - a write log: a statement-level trigger on each watched table adds a row to a log table in
 *   the writer's own transaction (inserts only: it never waits on or blocks a writer), and each
 *   read takes away the rows it can see. None: no write has committed since the last read, and
 *   the state is the one read then, in one tiny query. A write still in flight is invisible
 *   with its log row, and shows in a later read once it commits. The trigger and the log live
 *   in their own schema of the test's own database, never in the application's tables.
 * - per-table markers: each table's row count and the sum of its row versions' xmin (the
 *   transaction that wrote each). Any insert, update or delete moves them (a new row version
 *   carries its writer's transaction id; a deletion lowers the count), so only the tables
 *   whose marker moved are hashed again. A marker that moves without a real change (a rewrite
 *   of the same values, a row's last-used time) only costs a hash.
 * One client, held open until `close`.
 */
export class TableHashes {
  private readonly hashes = new Map<string, { marker: string; hash: string }>();
  private last: DbState | null = null;

  private constructor(
    private readonly client: pg.Client,
    private readonly markerSql: string,
    private readonly tables: string[],
  ) {}

  static async open(databaseUrl: string, ignore: readonly string[] = []): Promise<TableHashes> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    const tables = rows.map((r) => r.tablename).filter((t) => !derived(t) && !ignore.includes(t));
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS ${WATCH};
      CREATE TABLE IF NOT EXISTS ${WATCH}.writes (at timestamptz DEFAULT clock_timestamp());
      CREATE OR REPLACE FUNCTION ${WATCH}.log_write() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN INSERT INTO ${WATCH}.writes DEFAULT VALUES; RETURN NULL; END $$;`);
    for (const t of tables) {
      await client.query(
        `CREATE OR REPLACE TRIGGER ${pg.escapeIdentifier(`${WATCH}_${t}`)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${pg.escapeIdentifier(t)}
         FOR EACH STATEMENT EXECUTE FUNCTION ${WATCH}.log_write()`,
      );
    }
    const markerSql = tables
      .map((t) => `SELECT ${pg.escapeLiteral(t)} AS t, count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) AS m FROM ${pg.escapeIdentifier(t)}`)
      .join(" UNION ALL ");
    return new TableHashes(client, markerSql, tables);
  }

  /** The state now, one hash per table, as snapshotState gives it. */
  async read(): Promise<DbState> {
    // Taken before the markers are read: a write that commits in between is in the markers and
    // leaves its log row for the next read, which then looks again.
    const { rows: log } = await this.client.query<{ n: number }>(`WITH seen AS (DELETE FROM ${WATCH}.writes RETURNING 1) SELECT count(*)::int AS n FROM seen`);
    if (this.last && log[0]!.n === 0) return this.last;
    const { rows: markers } = await this.client.query<{ t: string; m: string }>(this.markerSql);
    const moved = markers.filter(({ t, m }) => this.hashes.get(t)?.marker !== m);
    if (moved.length > 0) {
      const row = "(to_jsonb(x) - 'last_used_at')::text";
      const sql = moved
        .map(({ t }) => `SELECT ${pg.escapeLiteral(t)} AS t, md5(string_agg(${row}, '|' ORDER BY ${row})) AS h FROM ${pg.escapeIdentifier(t)} x`)
        .join(" UNION ALL ");
      const { rows } = await this.client.query<{ t: string; h: string | null }>(sql);
      // The hash may be of a newer state than the marker: then the next read sees the marker move and hashes again.
      const markerOf = new Map(moved.map(({ t, m }) => [t, m]));
      for (const { t, h } of rows) this.hashes.set(t, { marker: markerOf.get(t)!, hash: h ?? "empty" });
    }
    this.last = Object.fromEntries(this.tables.map((t) => [t, this.hashes.get(t)!.hash]));
    return this.last;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** The schema of TableHashes' write counter, in the test's database. */
const WATCH = "custody_test_watch";
