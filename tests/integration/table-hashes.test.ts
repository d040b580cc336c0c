import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { changedTables, snapshotState, TableHashes } from "../helpers/db-state";

// The hostile-input suites' "a refusal changed nothing" reads the database after every case
// through TableHashes, which looks at the tables only when its write log says one was written,
// and hashes again only those whose row count or xmin sum moved. It must see every kind of
// write snapshotState sees, agree with it, and miss no write that commits after it looked.

let database: TestDatabase;
let sql: pg.Client;
let hashes: TableHashes;

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  await sql.query("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'a@example.com'), (gen_random_uuid(), 'b@example.com')");
  hashes = await TableHashes.open(database.url);
});

afterAll(async () => {
  await hashes?.close();
  await sql?.end();
  await database?.drop();
});

describe("TableHashes", () => {
  it("agrees with snapshotState, and sees each insert, update and delete as snapshotState does", async () => {
    let state = await hashes.read();
    expect(state).toEqual(await snapshotState(database.url));
    const writes = [
      "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'c@example.com')",
      "UPDATE users SET name = 'Bea' WHERE email = 'b@example.com'",
      // A change that keeps the row count and touches one column of one row.
      "UPDATE users SET email = 'B@example.com' WHERE email = 'b@example.com'",
      "DELETE FROM users WHERE email = 'a@example.com'",
      // Delete one row and insert another in one transaction: same count, new content.
      "WITH gone AS (DELETE FROM users WHERE email = 'c@example.com') INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'd@example.com')",
    ];
    for (const write of writes) {
      await sql.query(write);
      const after = await hashes.read();
      expect(changedTables(state, after), write).toEqual(["users"]);
      expect(after, write).toEqual(await snapshotState(database.url));
      state = after;
    }
  });

  it("sees a write that was in flight while it read, once it commits; not one rolled back", async () => {
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    try {
      const state = await hashes.read();
      await writer.query("BEGIN");
      await writer.query("UPDATE users SET name = 'in flight' WHERE email = 'd@example.com'");
      expect(changedTables(state, await hashes.read())).toEqual([]);
      await writer.query("COMMIT");
      const committed = await hashes.read();
      expect(changedTables(state, committed)).toEqual(["users"]);
      await writer.query("BEGIN");
      await writer.query("DELETE FROM users");
      await writer.query("ROLLBACK");
      expect(changedTables(committed, await hashes.read())).toEqual([]);
      expect(await hashes.read()).toEqual(await snapshotState(database.url));
    } finally {
      await writer.end();
    }
  });

  it("reports no change for a rewrite of the same values, nor for a last-used time", async () => {
    const state = await hashes.read();
    await sql.query("UPDATE users SET name = name");
    expect(changedTables(state, await hashes.read())).toEqual([]);
    const { rows } = await sql.query<{ id: string }>("SELECT id FROM users LIMIT 1");
    await sql.query(
      "INSERT INTO service_credentials (id, name, scopes, secret_hash, created_by_id) VALUES (gen_random_uuid(), 'app', '{wrap}', sha256('x'), $1)",
      [rows[0]!.id],
    );
    const withCredential = await hashes.read();
    await sql.query("UPDATE service_credentials SET last_used_at = now()");
    expect(changedTables(withCredential, await hashes.read())).toEqual([]);
  });
});
