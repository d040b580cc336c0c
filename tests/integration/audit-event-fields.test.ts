import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { columnOf, EVENT_FIELDS, TAIL_FIELDS } from "@/lib/audit/trail/event-fields";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The audit event's field list is declared once in TypeScript (lib/audit/trail/event-fields.ts);
// the table and the database's batch append (custody_append_audit_batch) keep their own SQL
// spelling. This test reads both from a migrated database, so neither can drift from the list.

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

/** The function's source, with runs of whitespace as one space. */
async function appendFunction(): Promise<string> {
  const { rows } = await client.query<{ def: string }>("SELECT pg_get_functiondef('custody_append_audit_batch(json, uuid[])'::regprocedure) AS def");
  return rows[0]!.def.replace(/\s+/g, " ");
}

describe("the audit event's fields against the database", () => {
  it("audit_events has exactly the fields' columns, in their order, after its row id", async () => {
    const { rows } = await client.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'audit_events' ORDER BY ordinal_position",
    );
    expect(rows.map((r) => r.column_name)).toEqual(["id", ...EVENT_FIELDS.map(columnOf)]);
  });

  it("the batch append inserts every column, in the fields' order", async () => {
    const inserted = /INSERT INTO audit_events \(([^)]*)\)/.exec(await appendFunction())?.[1];
    expect(inserted?.split(",").map((c) => c.trim())).toEqual(EVENT_FIELDS.map(columnOf));
  });

  it("the batch append reads every field the caller supplies (the tail) under its column name", async () => {
    const record = /json_to_recordset\(batch\) AS b\( ?(ord integer, [^)]*)\)/.exec(await appendFunction())?.[1];
    const names = record?.split(",").map((c) => c.trim().split(" ")[0]);
    expect(names).toEqual(["ord", ...TAIL_FIELDS.map(columnOf), "details_refused", "tail", "tail_refused", "requires_access", "credential_id"]);
  });
});
