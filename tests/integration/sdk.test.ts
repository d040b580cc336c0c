import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb, getDb } from "@/lib/db";
import { revokeAccess } from "@/lib/keys";
import { CustodyClient, CustodyError, envelopeEdek, isCustodyError, openRecord } from "@/lib/sdk";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { KeyServiceFixture, type TenantWithKey } from "../helpers/key-service";

// The SDK against the real key service (a key-service process on PostgreSQL and the dev KMS):
// what a vendor's application does with it, start to finish.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let client: CustodyClient;
let acme: TenantWithKey;
let globex: TenantWithKey;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  acme = await fixture.tenantWithKey("sdk-acme");
  globex = await fixture.tenantWithKey("sdk-globex");
  const { token } = await fixture.credential({ name: "sdk-app" });
  const instance = await fixture.instance();
  // A generous request timeout: the SDK's 10 s default is a limit for production, and a first
  // call (lease, KMS, audit) on a busy CI machine can take longer.
  client = new CustodyClient({ baseUrl: instance.url, token, timeoutMs: 60_000 });
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

describe("the SDK", () => {
  it("encrypts a record locally and decrypts it again; the trail shows both uses with the app's metadata", async () => {
    const meta = { dataLabel: "invoices", objectId: "inv-42", actor: "user:7", reason: "store invoice", requestId: "sdk-req-1" };
    const envelope = await client.encryptRecord(acme.tenantId, JSON.stringify({ total: 1234 }), meta);
    expect(envelope.includes(Buffer.from("1234"))).toBe(false);
    const plaintext = await client.decryptRecord(acme.tenantId, envelope.toString("base64"), { ...meta, reason: "render", requestId: "sdk-req-2" });
    expect(JSON.parse(plaintext.toString("utf8"))).toEqual({ total: 1234 });

    const events = await getDb().auditEvent.findMany({ where: { tenantId: acme.tenantId, requestId: { in: ["sdk-req-1", "sdk-req-2"] } }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.outcome, (e.details as { reason?: string }).reason])).toEqual([
      ["key.wrap", "SUCCESS", "store invoice"],
      ["key.unwrap", "SUCCESS", "render"],
    ]);
  });

  it("refuses a record moved to another tenant with a typed error", async () => {
    const meta = { dataLabel: "invoices", objectId: "inv-1" };
    const envelope = await client.encryptRecord(acme.tenantId, "secret", meta);
    const error = await client.decryptRecord(globex.tenantId, envelope, meta).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CustodyError);
    expect((error as CustodyError).code).toBe("invalid_edek");
    expect((error as CustodyError).requestId).toBeTruthy();
  });

  it("decrypts many records with one batch-unwrap", async () => {
    const rows = await Promise.all(
      ["a", "b", "c"].map(async (id) => ({ id, envelope: await client.encryptRecord(globex.tenantId, `row ${id}`, { dataLabel: "rows", objectId: id }) })),
    );
    const results = await client.batchUnwrap(globex.tenantId, rows.map((r) => ({ edek: envelopeEdek(r.envelope), dataLabel: "rows", objectId: r.id })));
    const plaintexts = results.map((result, i) => {
      if (!result.ok) throw result.error;
      return openRecord(rows[i]!.envelope, result.dek, { tenantId: globex.tenantId, dataLabel: "rows", objectId: rows[i]!.id }).toString();
    });
    expect(plaintexts).toEqual(["row a", "row b", "row c"]);
  });

  it("reports a revocation as access_revoked, without retrying", async () => {
    const t = await fixture.tenantWithKey("sdk-revoked");
    const envelope = await client.encryptRecord(t.tenantId, "before", { dataLabel: "notes", objectId: "n1" });
    await revokeAccess(t.admin, { tenantId: t.tenantId });
    const error = await client.decryptRecord(t.tenantId, envelope, { dataLabel: "notes", objectId: "n1" }).catch((e: unknown) => e);
    expect(isCustodyError(error, "access_revoked")).toBe(true);
    expect((error as CustodyError).attempts).toBe(1);
    expect((error as CustodyError).retryable).toBe(false);
  });
});
