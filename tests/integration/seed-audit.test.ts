import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { disconnectDb, getDb } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { runScript } from "../helpers/run-script";

// `npm run seed:audit` writes large trails for measuring the audit views; what it writes must be
// a real, verifiable chain, continued correctly when run again.

let database: TestDatabase;

async function seed(...args: string[]): Promise<{ code: number; out: string }> {
  return runScript("seed-audit.ts", args, { DATABASE_URL: database.url });
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("npm run seed:audit", () => {
  it("writes a verifiable chain, and continues it on a second run", async () => {
    const first = await seed("--events", "12000", "--tenant", "bulk-test");
    expect(first.code).toBe(0);
    expect(first.out).toContain("12,000 new events");
    const tenant = await getDb().tenant.findUniqueOrThrow({ where: { slug: "bulk-test" } });
    expect(await verifyStoredChain(tenant.id)).toEqual({ events: 12000, intact: true });

    expect((await seed("--events", "700", "--tenant", "bulk-test")).code).toBe(0);
    expect(await verifyStoredChain(tenant.id)).toEqual({ events: 12700, intact: true });
    const actions = await getDb().auditEvent.groupBy({ by: ["action"], where: { tenantId: tenant.id }, _count: true });
    expect(actions.map((a) => a.action).sort()).toEqual(["key.batch_unwrap", "key.batch_wrap", "key.rekey", "key.unwrap", "key.wrap"]);
    expect(await getDb().auditEvent.count({ where: { tenantId: tenant.id, outcome: "DENIED" } })).toBeGreaterThan(0);
  });

  it("refuses a bad count with a clear message and writes nothing", async () => {
    for (const bad of ["0", "-5", "many", "1.5"]) {
      const result = await seed("--events", bad);
      expect(result.code).toBe(2);
      expect(result.out).toContain("--events must be a whole number");
    }
    expect(await getDb().tenant.count({ where: { slug: "bulk" } })).toBe(0);
  });
});
