import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, PRISMA_ADVISORY_LOCK_KEY } from "@/lib/db/migrate";
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitUntil } from "../helpers/wait";

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");

let folderMigrations: string[];
const databases: TestDatabase[] = [];
const tempDirs: string[] = [];

async function emptyDatabase(): Promise<string> {
  const db = await createEmptyDatabase();
  databases.push(db);
  return db.url;
}

async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A copy of prisma/migrations that a test may edit. */
async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "custody-migrations-"));
  tempDirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, "migration.sql"), sql);
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await query<{ found: string | null }>(url, "SELECT to_regclass($1)::text AS found", [table]);
  return rows[0]?.found != null;
}

async function migrationRows(url: string) {
  return query<{
    id: string;
    checksum: string;
    finished_at: Date | null;
    migration_name: string;
    logs: string | null;
    rolled_back_at: Date | null;
    started_at: Date;
    applied_steps_count: number;
  }>(url, `SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);
}

beforeAll(async () => {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  folderMigrations = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  expect(folderMigrations.length).toBeGreaterThan(0);
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("applyMigrations", () => {
  it("applies every migration to a fresh database and records each as Prisma does", async () => {
    const url = await emptyDatabase();
    const lines: string[] = [];

    const { applied } = await applyMigrations(url, { log: (line) => lines.push(line) });

    expect(applied).toEqual(folderMigrations);
    expect(lines.some((line) => line.includes(folderMigrations[0]!))).toBe(true);

    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual(folderMigrations);
    for (const row of rows) {
      const bytes = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }

    // Exactly Prisma's table, so `prisma migrate deploy` can take over.
    const columns = await query(
      url,
      `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", length: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", length: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", length: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", length: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", length: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", length: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", length: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", length: null, is_nullable: "NO", column_default: "0" },
    ]);
    const [pk] = await query(
      url,
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = '"_prisma_migrations"'::regclass AND i.indisprimary`,
    );
    expect(pk).toEqual({ attname: "id" });

    expect(await tableExists(url, "audit_events")).toBe(true);
  });

  it("applies nothing the second time", async () => {
    const url = await emptyDatabase();
    await applyMigrations(url);
    const before = await migrationRows(url);

    const { applied } = await applyMigrations(url);

    expect(applied).toEqual([]);
    expect(await migrationRows(url)).toEqual(before);
  });

  it("lets two concurrent runs on an empty database both succeed, applying each migration once", async () => {
    const url = await emptyDatabase();

    const [a, b] = await Promise.all([applyMigrations(url), applyMigrations(url)]);

    expect([...a.applied, ...b.applied].sort()).toEqual(folderMigrations);
    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual(folderMigrations);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it("waits for Prisma's advisory lock (72707369) held by someone else", async () => {
    const url = await emptyDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
      let finished = false;
      const run = applyMigrations(url).then((result) => {
        finished = true;
        return result;
      });
      // It is waiting on the lock (not merely slow to start), and has done nothing meanwhile.
      await waitUntil(
        async () => (await holder.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0].n > 0,
        "the migration to wait on the lock",
      );
      expect(finished).toBe(false);
      expect(await tableExists(url, "tenants")).toBe(false);

      await holder.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
      expect((await run).applied).toEqual(folderMigrations);
    } finally {
      await holder.end();
    }
  });

  it("refuses when an applied migration was edited, and changes nothing", async () => {
    const url = await emptyDatabase();
    const dir = await copyMigrations();
    await applyMigrations(url, { migrationsDir: dir });
    const before = await migrationRows(url);

    // Alter one byte of the first (applied) migration, and add a pending one that must not run.
    const first = folderMigrations[0]!;
    const file = path.join(dir, first, "migration.sql");
    const bytes = await readFile(file);
    bytes[bytes.length - 2] = bytes[bytes.length - 2] === 0x3b ? 0x20 : 0x3b;
    await writeFile(file, bytes);
    await addMigration(dir, "29990101000000_pending", `CREATE TABLE "should_not_exist" ("id" INTEGER);`);

    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(
      new RegExp(`Migration "${first}" was modified after it was applied`),
    );

    expect(await migrationRows(url)).toEqual(before);
    expect(await tableExists(url, "should_not_exist")).toBe(false);
  });

  it("accepts a migration whose line endings git converted (as Prisma does)", async () => {
    const url = await emptyDatabase();
    const dir = await copyMigrations();
    await applyMigrations(url, { migrationsDir: dir });
    const file = path.join(dir, folderMigrations[0]!, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")).replace(/\n/g, "\r\n"));

    expect((await applyMigrations(url, { migrationsDir: dir })).applied).toEqual([]);
  });

  it("rolls a failing migration back completely, records it, and refuses the next run until resolved", async () => {
    const url = await emptyDatabase();
    const dir = await copyMigrations();
    const broken = "29990101000000_broken";
    await addMigration(
      dir,
      broken,
      [
        `CREATE TYPE "half_kind" AS ENUM ('a', 'b');`,
        `CREATE TABLE "half_applied" ("id" INTEGER NOT NULL, "kind" "half_kind");`,
        `INSERT INTO "half_applied" ("id") VALUES (1);`,
        `ALTER TABLE "tenants" ADD COLUMN "half_column" TEXT;`,
        `SELECT * FROM "table_that_does_not_exist";`,
        "",
      ].join("\n"),
    );

    const failure = await applyMigrations(url, { migrationsDir: dir }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(
      new RegExp(`Migration "${broken}" failed and was rolled back.*table_that_does_not_exist.*line 5`),
    );

    // The earlier migrations were applied and committed; nothing of the broken one remains.
    expect(await tableExists(url, "tenants")).toBe(true);
    expect(await tableExists(url, "half_applied")).toBe(false);
    expect(await query(url, `SELECT 1 FROM pg_type WHERE typname = 'half_kind'`)).toEqual([]);
    expect(
      await query(url, `SELECT 1 FROM information_schema.columns WHERE table_name = 'tenants' AND column_name = 'half_column'`),
    ).toEqual([]);

    // Recorded as Prisma records a failure: not finished, not rolled back, with the error in logs.
    const rows = await migrationRows(url);
    const failed = rows.find((r) => r.migration_name === broken);
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(failed?.logs).toContain("table_that_does_not_exist");

    // Every later run refuses, naming the migration, even once the file is fixed...
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(
      new RegExp(`Migration "${broken}" is recorded as failed, it failed: .*table_that_does_not_exist`),
    );
    await writeFile(path.join(dir, broken, "migration.sql"), `CREATE TABLE "half_applied" ("id" INTEGER);\n`);
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(/recorded as failed/);
    expect(await tableExists(url, "half_applied")).toBe(false);

    // ...until someone marks it rolled back (what `prisma migrate resolve --rolled-back` does).
    await query(url, `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = $1`, [failed!.id]);
    expect((await applyMigrations(url, { migrationsDir: dir })).applied).toEqual([broken]);
    expect(await tableExists(url, "half_applied")).toBe(true);
  });

  it("refuses when the database has a migration the folder does not", async () => {
    const url = await emptyDatabase();
    const dir = await copyMigrations();
    await addMigration(dir, "29990101000000_from_the_future", `CREATE TABLE "future" ("id" INTEGER);`);
    await applyMigrations(url, { migrationsDir: dir });
    const before = await migrationRows(url);

    await expect(applyMigrations(url, { migrationsDir: MIGRATIONS_DIR })).rejects.toThrow(
      /The database has migration "29990101000000_from_the_future" applied, but .* has no such folder/,
    );
    expect(await migrationRows(url)).toEqual(before);
  });

  it("ignores migration_lock.toml and reports a migration folder without migration.sql", async () => {
    const dir = await copyMigrations();
    await expect(readFile(path.join(dir, "migration_lock.toml"), "utf8")).resolves.toContain('provider = "postgresql"');
    const url = await emptyDatabase();
    expect((await applyMigrations(url, { migrationsDir: dir })).applied).toEqual(folderMigrations);

    await mkdir(path.join(dir, "29990101000000_empty_folder"));
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(
      /Migration "29990101000000_empty_folder" has no migration.sql/,
    );
  });

  it("explains connection failures without revealing the password", async () => {
    const failure = await applyMigrations("postgresql://postgres:s3cret-pw@127.0.0.1:1/custody").catch(
      (error: Error) => error,
    );
    expect((failure as Error).message).toMatch(/^Cannot connect to the database 127\.0\.0\.1:1\/custody: /);
    expect((failure as Error).message).not.toContain("s3cret-pw");
  });
});

describe("audit_events", () => {
  let db: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `INSERT INTO "audit_events" ("chain", "seq", "occurred_at", "actor_type", "action", "outcome", "prev_hash", "hash")
       VALUES ('vendor', 1, now(), 'system', 'test.event', 'success', repeat('0', 64), repeat('a', 64))`,
    );
  });

  afterEach(async () => {
    const rows = await client.query(`SELECT "action", "hash" FROM "audit_events"`);
    expect(rows.rows).toEqual([{ action: "test.event", hash: "a".repeat(64) }]);
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it("refuses UPDATE", async () => {
    await expect(client.query(`UPDATE "audit_events" SET "action" = 'tampered'`)).rejects.toMatchObject({
      code: "42501",
      message: "audit_events is append-only: UPDATE refused",
    });
  });

  it("refuses DELETE", async () => {
    await expect(client.query(`DELETE FROM "audit_events"`)).rejects.toMatchObject({
      code: "42501",
      message: "audit_events is append-only: DELETE refused",
    });
  });

  it("refuses TRUNCATE", async () => {
    await expect(client.query(`TRUNCATE "audit_events"`)).rejects.toMatchObject({
      code: "42501",
      message: "audit_events is append-only: TRUNCATE refused",
    });
  });
});
