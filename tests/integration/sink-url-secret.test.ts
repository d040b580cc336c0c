import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { createSink, getSink, listSinks, updateSink } from "@/lib/sinks";
import { loadSinkConfig } from "@/lib/sinks/config";
import { sealStoredSinkUrls } from "@/lib/sinks/seal-stored-urls";
import { forgetDeploymentSinkSecretKeys } from "@/lib/sinks/secrets";
import { sendBatch } from "@/lib/sinks/transports";
import { EVENT } from "@/lib/sinks/transports/test-fixtures";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { TestReceiver } from "../helpers/sink-receiver";

// A sink URL's query string (`?token=…`) is a secret: sealed at rest like the sink's own, never
// in the settings column, the console's view of the sink (its edit form), or the trail; the
// receiver still gets it. Sinks stored before are sealed at start-up.

let database: TestDatabase;
let acme: string;
let admin: Caller;
const receiver = new TestReceiver();
const TOKEN = `qs-${randomBytes(12).toString("hex")}`;

/** Everything a database dump, the console and the trail hold about the tenant's sinks. */
async function everythingStored(): Promise<string> {
  const rows = await getDb().$queryRaw<Array<{ settings: string }>>`SELECT settings::text AS settings FROM log_sinks WHERE tenant_id = ${acme}::uuid`;
  const trail = await getDb().$queryRaw<Array<{ row: string }>>`SELECT row_to_json(e)::text AS row FROM audit_events e WHERE chain = ${acme}`;
  const listed = JSON.stringify(await listSinks(admin, acme));
  return [...rows.map((r) => r.settings), ...trail.map((r) => r.row), listed].join("\n");
}

async function urlSentTo(sinkId: string): Promise<string> {
  const loaded = await loadSinkConfig(sinkId);
  const before = receiver.batches.length;
  await sendBatch(loaded!.config, [EVENT], { allowPrivateTargets: true, allowHttp: true, timeoutMs: 10_000 });
  return receiver.batches[before]!.path;
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
  delete process.env.SINK_SECRET_KEY_FILE;
  forgetDeploymentSinkSecretKeys();
  acme = (await getDb().tenant.create({ data: { slug: "acme", name: "Acme" } })).id;
  const user = await getDb().user.create({ data: { email: "admin@acme.example" } });
  await getDb().membership.create({ data: { tenantId: acme, userId: user.id, role: "ADMIN" } });
  admin = { userId: user.id, request: { sourceIp: "10.0.0.1", userAgent: "test", requestId: null } };
  await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
  await disconnectDb();
  await database?.drop();
});

describe("a webhook URL's query string", () => {
  it("is sealed at rest and never shown, yet reaches the receiver", async () => {
    const { sinkId } = await createSink(admin, { tenantId: acme, name: "hook", kind: "webhook", settings: { url: `${receiver.url}?token=${TOKEN}` } });
    expect(await everythingStored()).not.toContain(TOKEN);
    // The console (edit form, status page) sees the URL without it.
    const view = await getSink(admin, acme, sinkId);
    expect(view.settings.url).toBe(receiver.url);
    expect(JSON.stringify(view)).not.toContain("token=");
    expect(view.target).toBe(new URL(receiver.url).origin);
    expect(await urlSentTo(sinkId)).toBe(`/ingest?token=${TOKEN}`);
  });

  it("is kept by an edit that leaves it out, replaced by one that enters a new one, removed by a lone '?'", async () => {
    const { sinkId } = await createSink(admin, { tenantId: acme, name: "edited", kind: "webhook", settings: { url: `${receiver.url}?token=${TOKEN}` } });
    const edit = (url: string) => updateSink(admin, { tenantId: acme, sinkId, name: "edited", kind: "webhook", settings: { url } });
    // What the form shows, submitted as is.
    await edit((await getSink(admin, acme, sinkId)).settings.url as string);
    expect(await urlSentTo(sinkId)).toBe(`/ingest?token=${TOKEN}`);
    // A new path keeps it too.
    await edit(`${receiver.url}/v2`);
    expect(await urlSentTo(sinkId)).toBe(`/ingest/v2?token=${TOKEN}`);
    await edit(`${receiver.url}?token=${TOKEN}-new&team=sec`);
    expect(await urlSentTo(sinkId)).toBe(`/ingest?token=${TOKEN}-new&team=sec`);
    expect(await everythingStored()).not.toContain(TOKEN);
    await edit(`${receiver.url}?`);
    expect(await urlSentTo(sinkId)).toBe("/ingest");
    expect((await getSink(admin, acme, sinkId)).settings.url).toBe(receiver.url);
  });

  it("does not open on another sink's row (the sealed URL is bound to its sink)", async () => {
    const a = await createSink(admin, { tenantId: acme, name: "a", kind: "webhook", settings: { url: `${receiver.url}?token=${TOKEN}` } });
    const b = await createSink(admin, { tenantId: acme, name: "b", kind: "webhook", settings: { url: receiver.url } });
    await getDb().$executeRaw`UPDATE log_sinks SET settings = (SELECT settings FROM log_sinks WHERE id = ${a.sinkId}::uuid) WHERE id = ${b.sinkId}::uuid`;
    await expect(loadSinkConfig(b.sinkId)).rejects.toThrow(/does not open/);
  });

  it("of a sink stored before sealing is sealed at start-up, once, and still delivered", async () => {
    const legacy = `legacy-${randomBytes(8).toString("hex")}`;
    const [row] = await getDb().$queryRaw<Array<{ id: string }>>`
      INSERT INTO log_sinks (id, tenant_id, name, kind, settings, secret_ciphertext, enqueued_seq)
      VALUES (gen_random_uuid(), ${acme}::uuid, 'legacy', 'webhook', ${JSON.stringify({ url: `${receiver.url}?token=${legacy}`, caCertificate: null })}::jsonb, NULL, 0)
      RETURNING id::text`;
    await updateSecret(row!.id);
    expect(await everythingStored()).toContain(legacy);
    expect(await sealStoredSinkUrls()).toBe(1);
    expect(await everythingStored()).not.toContain(legacy);
    expect(await urlSentTo(row!.id)).toBe(`/ingest?token=${legacy}`);
    expect(await sealStoredSinkUrls()).toBe(0);
  });

  it("refuses a user name or password in the URL, changing nothing", async () => {
    const error = await createSink(admin, { tenantId: acme, name: "userinfo", kind: "webhook", settings: { url: "https://ops:hunter2@siem.example.com/hook" } }).catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe("bad_request");
    expect(await everythingStored()).not.toContain("hunter2");
  });
});

/** The legacy sink's signing secret, sealed as Custody seals it. */
async function updateSecret(sinkId: string): Promise<void> {
  const { encryptSinkSecret } = await import("@/lib/sinks/secrets");
  await getDb().logSink.update({ where: { id: sinkId }, data: { secretCiphertext: new Uint8Array(encryptSinkSecret(sinkId, "whsec_legacy")) } });
}
