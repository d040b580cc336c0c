import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { custodyAdapter } from "@/lib/auth/adapter";
import { disconnectDb, getDb } from "@/lib/db";
import { applyMigrations } from "@/lib/db/migrate";
import { hashSessionToken } from "@/lib/db/session-token";
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from "../helpers/db";

// A copy of the sessions table must sign nobody in: only the SHA-256 of each cookie value is
// stored, next-auth still sees the cookie's value, and sessions that existed before the
// change keep working after the migration that hashes them.

const root = path.resolve(__dirname, "../..");
const HASHING_MIGRATION = "20261203090000_hashed_session_tokens";
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

async function storedTokens(userId: string): Promise<string[]> {
  const rows = await getDb().session.findMany({ where: { userId }, select: { sessionToken: true } });
  return rows.map((row) => row.sessionToken);
}

describe("session tokens at rest", () => {
  it("stores only the hash, and answers next-auth with the cookie's value", async () => {
    const adapter = custodyAdapter();
    const user = await adapter.createUser!({ email: "Hashed@Acme.example", emailVerified: null });
    const cookie = "c0ffee".repeat(10);
    const expires = new Date(Date.now() + 3_600_000);

    const created = await adapter.createSession!({ sessionToken: cookie, userId: user.id, expires });
    expect(created.sessionToken).toBe(cookie);
    expect(await storedTokens(user.id)).toEqual([hashSessionToken(cookie)]);

    const found = await adapter.getSessionAndUser!(cookie);
    expect(found?.session.sessionToken).toBe(cookie);
    expect(found?.user.email).toBe("hashed@acme.example");

    const later = new Date(expires.getTime() + 60_000);
    const updated = await adapter.updateSession!({ sessionToken: cookie, expires: later });
    expect(updated?.sessionToken).toBe(cookie);
    expect((await adapter.getSessionAndUser!(cookie))?.session.expires).toEqual(later);

    await adapter.deleteSession!(cookie);
    expect(await storedTokens(user.id)).toEqual([]);
  });

  it("signs nobody in with a value read from the database", async () => {
    const adapter = custodyAdapter();
    const user = await adapter.createUser!({ email: "dump@acme.example", emailVerified: null });
    await adapter.createSession!({ sessionToken: "secret-cookie-value", userId: user.id, expires: new Date(Date.now() + 3_600_000) });

    const [stored] = await storedTokens(user.id);
    expect(stored).not.toContain("secret-cookie-value");
    expect(await adapter.getSessionAndUser!(stored!)).toBeNull();
  });
});

describe("the migration that hashes existing sessions", () => {
  it("keeps a session created before it working under its cookie value", async () => {
    const before = await mkdtemp(path.join(tmpdir(), "custody-migrations-"));
    const empty = await createEmptyDatabase();
    const client = new pg.Client({ connectionString: empty.url });
    try {
      await cp(path.join(root, "prisma/migrations"), before, { recursive: true });
      await rm(path.join(before, HASHING_MIGRATION), { recursive: true });
      await applyMigrations(empty.url, { migrationsDir: before });

      await client.connect();
      const user = await client.query<{ id: string }>("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'old@acme.example') RETURNING id");
      await client.query("INSERT INTO sessions (id, session_token, user_id, expires) VALUES (gen_random_uuid(), 'old-cookie', $1, now() + interval '1 hour')", [
        user.rows[0]!.id,
      ]);

      await applyMigrations(empty.url, { migrationsDir: path.join(root, "prisma/migrations") });

      const stored = await client.query<{ session_token: string }>("SELECT session_token FROM sessions");
      expect(stored.rows).toEqual([{ session_token: hashSessionToken("old-cookie") }]);
    } finally {
      await client.end().catch(() => {});
      await empty.drop();
      await rm(before, { recursive: true, force: true });
    }
  });
});
