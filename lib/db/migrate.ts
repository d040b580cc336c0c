import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

// Applies prisma/migrations with plain `pg`, because Prisma's native schema engine (what
// `prisma migrate deploy` needs) cannot be installed everywhere Custody runs. The
// bookkeeping is Prisma's own: the same `_prisma_migrations` table, the same checksums
// and the same advisory lock, so `prisma migrate deploy` can take over at any time.
//
// Unlike Prisma, each migration runs inside one transaction together with the row that
// marks it finished: it is applied completely or not at all. A migration therefore must not
// contain statements that refuse to run in a transaction (CREATE INDEX CONCURRENTLY,
// VACUUM, ...) nor its own BEGIN/COMMIT.

/** The key Prisma's schema engine locks (`SELECT pg_advisory_lock(72707369)`). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** How long a second starter waits for the one that holds the lock to finish. */
const LOCK_WAIT = "120s";

const MIGRATIONS_TABLE = "_prisma_migrations";

// Prisma's DDL for the table (PostgreSQL connector), column for column.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  /** Defaults to prisma/migrations under the current working directory. */
  migrationsDir?: string;
  /** Receives one line per step (no secrets). */
  log?: (line: string) => void;
}

export interface MigrationFile {
  name: string;
  sqlPath: string;
  sql: string;
  /** sha256 hex of the file's bytes, as Prisma records it. */
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
}

/** The checksum Prisma stores for a migration script: sha256 of its bytes, lower-case hex. */
export function migrationChecksum(script: Buffer | string): string {
  return createHash("sha256").update(script).digest("hex");
}

// Mirrors Prisma's script_matches_checksum: line-ending conversions by git must not count
// as edits, and very old Prisma versions stored hex without zero padding.
function scriptMatchesChecksum(script: string, recorded: string): boolean {
  const variants = [script, script.replace(/\r\n/g, "\n"), script.replace(/\n/g, "\r\n")];
  return variants.some((variant) => {
    const digest = createHash("sha256").update(variant, "utf8").digest();
    const rendered =
      recorded.length !== 64 ? [...digest].map((b) => b.toString(16)).join("") : digest.toString("hex");
    return rendered === recorded;
  });
}

/** The migrations' names: the folders of `migrationsDir`, sorted as Prisma orders them. */
export async function listMigrationNames(migrationsDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, "ENOENT")) throw new Error(`Migrations folder not found: ${migrationsDir}`);
    throw new Error(`Cannot read the migrations folder ${migrationsDir}: ${errorMessage(error)}`);
  }
  // Only directories are migrations; migration_lock.toml and stray files are not.
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

/** Reads the migration folders (sorted by name, as Prisma orders them). */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const names = await listMigrationNames(migrationsDir);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const sqlPath = path.join(migrationsDir, name, "migration.sql");
    let bytes: Buffer;
    try {
      bytes = await readFile(sqlPath);
    } catch (error) {
      if (isErrno(error, "ENOENT")) throw new Error(`Migration "${name}" has no migration.sql (${sqlPath})`);
      throw new Error(`Cannot read ${sqlPath}: ${errorMessage(error)}`);
    }
    let sql: string;
    try {
      sql = decoder.decode(bytes);
    } catch {
      // Prisma refuses non-UTF-8 scripts too; decoding leniently would run mangled SQL.
      throw new Error(`Migration "${name}" is not valid UTF-8 (${sqlPath})`);
    }
    migrations.push({ name, sqlPath, sql, checksum: migrationChecksum(bytes) });
  }
  return migrations;
}

/**
 * Applies every pending migration in `migrationsDir` to the database, each in its own
 * transaction, holding Prisma's advisory lock so that concurrent starters take turns.
 *
 * Refuses (throws, without changing anything) when an applied migration's file was edited,
 * when a recorded migration failed or never finished, or when the database has a migration
 * the folder lacks. Error messages never contain the connection password.
 */
export async function applyMigrations(
  databaseUrl: string,
  options: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const migrationsDir = path.resolve(options.migrationsDir ?? path.join(process.cwd(), "prisma", "migrations"));
  const log = options.log ?? (() => {});

  const target = describeDatabase(databaseUrl);
  const migrations = await readMigrations(migrationsDir);

  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: "custody-migrate",
    connectionTimeoutMillis: 15_000,
  });
  // A connection dropped between queries surfaces as the next query's error; without a
  // listener it would crash the process instead.
  let connectionError: unknown;
  client.on("error", (error) => {
    connectionError = error;
  });

  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot connect to the database ${target}: ${errorMessage(error)}`);
  }

  try {
    const schema = new URL(databaseUrl).searchParams.get("schema");
    if (schema) {
      // Prisma URLs name the schema as ?schema=; node-postgres ignores it, so honour it here.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
      await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    }

    await acquireLock(client, target);
    try {
      // Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<MigrationRow>(
        `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at
           FROM "${MIGRATIONS_TABLE}" ORDER BY started_at, migration_name`,
      );

      const pending = checkHistory(migrations, rows, migrationsDir);
      const applied: string[] = [];
      for (const migration of pending) {
        log(`Applying migration ${migration.name}`);
        const startedAt = Date.now();
        await applyOne(client, migration);
        log(`Applied migration ${migration.name} (${Date.now() - startedAt} ms)`);
        applied.push(migration.name);
      }
      return { applied };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new Error(`Migrating ${target} failed: ${errorMessage(connectionError ?? error)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Errors whose message is complete as it stands (no "Migrating ... failed" prefix). */
class MigrationError extends Error {
  override name = "MigrationError";
}

async function acquireLock(client: pg.Client, target: string): Promise<void> {
  await client.query(`SET lock_timeout = '${LOCK_WAIT}'`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") {
      throw new MigrationError(
        `Timed out after ${LOCK_WAIT} waiting for the migration lock on ${target} ` +
          `(pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})): another migration run is still going or hung`,
      );
    }
    throw error;
  } finally {
    // Migrations themselves run with the server's usual lock behaviour.
    await client.query("RESET lock_timeout").catch(() => {});
  }
}

/** Validates the recorded history against the folder; returns the migrations still to apply. */
function checkHistory(migrations: MigrationFile[], rows: MigrationRow[], migrationsDir: string): MigrationFile[] {
  const problems: string[] = [];
  const byName = new Map(migrations.map((m) => [m.name, m]));

  for (const row of rows) {
    if (row.finished_at === null && row.rolled_back_at === null) {
      const reason = row.logs
        ? `it failed: ${firstLine(row.logs)}`
        : "it started but never finished (the process applying it was probably stopped)";
      problems.push(
        `Migration "${row.migration_name}" is recorded as failed, ${reason}. ` +
          `Once its cause is fixed, mark it rolled back ` +
          `(UPDATE "${MIGRATIONS_TABLE}" SET rolled_back_at = now() WHERE id = '${row.id}') and migrate again`,
      );
    }
  }

  // Rows marked rolled back (prisma migrate resolve --rolled-back) no longer count.
  const appliedRows = rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null);
  const appliedNames = new Set<string>();
  for (const row of appliedRows) {
    appliedNames.add(row.migration_name);
    const migration = byName.get(row.migration_name);
    if (!migration) {
      problems.push(
        `The database has migration "${row.migration_name}" applied, but ${migrationsDir} has no such folder ` +
          `(is this code older than the database?)`,
      );
    } else if (!scriptMatchesChecksum(migration.sql, row.checksum)) {
      problems.push(
        `Migration "${row.migration_name}" was modified after it was applied (${migration.sqlPath} no longer ` +
          `matches the recorded checksum). Restore the file and put the change in a new migration`,
      );
    }
  }

  if (problems.length > 0) throw new MigrationError(`Refusing to migrate: ${problems.join("; ")}`);
  return migrations.filter((m) => !appliedNames.has(m.name));
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  // Recorded first and committed on its own, so a failure or a crash stays visible (and
  // blocks further runs) exactly as Prisma leaves it.
  await client.query(
    `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query("BEGIN");
    await client.query(migration.sql);
    await client.query(
      `UPDATE "${MIGRATIONS_TABLE}" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const detail = describeSqlError(error, migration.sql);
    await client
      .query(`UPDATE "${MIGRATIONS_TABLE}" SET logs = $2 WHERE id = $1`, [id, detail])
      .catch(() => {});
    throw new MigrationError(
      `Migration "${migration.name}" failed and was rolled back, the database is unchanged by it: ${detail}`,
    );
  }
}

// "relation "x" does not exist (line 12: SELECT * FROM x;)": where in the file it broke.
function describeSqlError(error: unknown, sql: string): string {
  const pgError = error as { message?: string; position?: string; code?: string; detail?: string };
  let text = errorMessage(error);
  if (pgError.detail) text += ` (${pgError.detail})`;
  const position = Number(pgError.position);
  if (Number.isInteger(position) && position > 0) {
    const before = sql.slice(0, position - 1);
    const lineNumber = before.split("\n").length;
    const line = sql.split("\n")[lineNumber - 1]?.trim() ?? "";
    text += ` at line ${lineNumber}: ${line.length > 120 ? `${line.slice(0, 117)}...` : line}`;
  }
  if (pgError.code) text += ` [SQLSTATE ${pgError.code}]`;
  return text;
}

/** "host:port/database" — the URL without credentials, for messages. */
export function describeDatabase(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error("The database URL is not a valid postgresql://user:password@host:port/database URL");
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new Error("The database URL must start with postgresql://");
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || "(default database)";
  return `${url.hostname || "localhost"}:${url.port || "5432"}/${database}`;
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
