import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent } from "@/lib/audit";
import { disconnectDb, getDb } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { runScript } from "../helpers/run-script";

// `npm run audit:verify` against trails tampered with directly in PostgreSQL (the append-only
// trigger switched off, as someone with the database's superuser could): each kind of damage
// is detected, located and named.

let database: TestDatabase;
let admin: pg.Client;

async function trailOf(slug: string, events: number): Promise<string> {
  const tenant = await getDb().tenant.create({ data: { slug, name: slug } });
  for (let i = 0; i < events; i++) {
    await getDb().$transaction((tx) =>
      appendAuditEvent(tx, {
        tenantId: tenant.id,
        actor: { type: "service", id: "cred-1", label: "billing-app" },
        action: "key.unwrap",
        outcome: "success",
        request: { sourceIp: "10.0.0.1", userAgent: "test", requestId: `r-${i}` },
        details: { dataLabel: "invoices", objectId: `inv-${i}` },
      }),
    );
  }
  return tenant.id;
}

async function tamper(sql: string, ...values: unknown[]): Promise<void> {
  await admin.query("BEGIN");
  await admin.query("SET LOCAL session_replication_role = replica");
  await admin.query(sql, values);
  await admin.query("COMMIT");
}

async function verify(target: string): Promise<{ code: number; out: string }> {
  return runScript("audit-verify.ts", ["--tenant", target], { DATABASE_URL: database.url });
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await disconnectDb();
  await database?.drop();
});

describe("npm run audit:verify", () => {
  it("reports an intact trail with its length and head hash, by slug or id", async () => {
    const tenantId = await trailOf("intact", 5);
    const head = await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } });
    for (const target of ["intact", tenantId]) {
      const result = await verify(target);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`OK: tenant intact (${tenantId}): 5 events intact, head hash ${head.headHash}`);
    }
  });

  it("finds an edited field and names the event", async () => {
    const tenantId = await trailOf("edited", 6);
    await tamper("UPDATE audit_events SET actor_label = 'someone-else' WHERE chain = $1 AND seq = 4", tenantId);
    const result = await verify("edited");
    expect(result.code).toBe(1);
    expect(result.out).toContain("the first 3 events are intact; at #4 (edited)");
  });

  it("finds a deleted event, and a deleted tail", async () => {
    const middle = await trailOf("deleted", 6);
    await tamper("DELETE FROM audit_events WHERE chain = $1 AND seq = 3", middle);
    const result = await verify("deleted");
    expect(result.code).toBe(1);
    expect(result.out).toContain("at #3 (deleted): Event #3 is missing");

    const tail = await trailOf("deleted-tail", 6);
    await tamper("DELETE FROM audit_events WHERE chain = $1 AND seq >= 5", tail);
    const tailResult = await verify("deleted-tail");
    expect(tailResult.code).toBe(1);
    expect(tailResult.out).toContain("at #5 (deleted): Events #5 to #6 are missing");
  });

  it("finds two swapped events", async () => {
    const tenantId = await trailOf("swapped", 6);
    await tamper(
      `UPDATE audit_events SET seq = -1 WHERE chain = $1 AND seq = 3;
       UPDATE audit_events SET seq = 3 WHERE chain = $1 AND seq = 4;
       UPDATE audit_events SET seq = 4 WHERE chain = $1 AND seq = -1;`.replace(/\$1/g, `'${tenantId}'`),
    );
    const result = await verify("swapped");
    expect(result.code).toBe(1);
    expect(result.out).toContain("at #3 (reordered)");
  });

  it("says clearly when the tenant does not exist, and checks nothing", async () => {
    const result = await verify("no-such-tenant");
    expect(result.code).toBe(2);
    expect(result.out).toContain('no tenant has the id or slug "no-such-tenant"');
  });
});
