import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { sinkInputOf } from "@/app/(tenant)/t/[slug]/sinks/sink-form-fields";
import { disconnectDb, getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { createSink, getSink, listSinks, sendTestEvent, updateSink } from "@/lib/sinks";
import { runSinkOutbox } from "@/lib/sinks/job";
import { SINK_KINDS, type SinkKindDefinition, type SinkKindRegistry, sinkKindForms } from "@/lib/sinks/kinds";
import { caCertificateField, originOf, requireSecret, urlField, urlSchema } from "@/lib/sinks/kinds/shared";
import { forgetDeploymentSinkSecretKeys } from "@/lib/sinks/secrets";
import { SinkDeliveryError, type SinkEvent } from "@/lib/sinks/types";
import type { Caller } from "@/lib/authz";
import { appendEvents } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitUntil } from "../helpers/wait";

// A kind of sink that exists only in this file, added to the registry the way a real one is
// (a definition, one registry entry), to show that a new kind needs nothing else: it is
// validated, stored with its secret sealed, shown, and delivered by the real outbox job to a
// real receiver on loopback.

/** NDJSON over HTTP with a bearer key the admin enters: unlike any production kind. */
type NdjsonConfig = { kind: "ndjson"; url: string; apiKey: string; stream: string };
const ndjsonSettings = (policy: { allowHttp: boolean }) =>
  z.object({
    url: urlSchema(policy, "https://logs.example.com/ingest"),
    stream: z.string().trim().regex(/^[a-z]+$/, "Use lower-case letters for the stream.").default("audit"),
  });

const ndjsonKind = {
  label: "NDJSON",
  settings: ndjsonSettings,
  secret: { type: "entered", field: "apiKey", schema: z.string().trim().min(8, "Enter the API key (8 characters or more).") },
  fields: [
    urlField("Ingest URL", "https://logs.example.com/ingest", "Custody POSTs one JSON line per event."),
    { name: "apiKey", label: "API key", control: "password", hint: "Stored encrypted.", editHint: "Leave empty to keep the current key." },
    { name: "stream", label: "Stream", control: "text", initial: "audit", emptyIsAbsent: true },
    caCertificateField,
  ],
  destination: (s) => originOf(s.url) ?? "",
  target: (s) => `${originOf(s.url) ?? "—"} (stream ${s.stream})`,
  configOf: (s, secret) => ({ kind: "ndjson", url: s.url, apiKey: requireSecret(secret), stream: s.stream }),
  send: async (config, events, options) => {
    let response: Response;
    try {
      response = await fetch(`${config.url}?stream=${config.stream}`, {
        method: "POST",
        headers: { authorization: `Bearer ${config.apiKey}`, "content-type": "application/x-ndjson" },
        body: events.map((e) => JSON.stringify(e)).join("\n"),
        signal: options.signal,
      });
    } catch {
      throw new SinkDeliveryError("Cannot connect to the NDJSON receiver.", true);
    }
    await response.arrayBuffer();
    if (!response.ok) throw new SinkDeliveryError(`The NDJSON receiver answered HTTP ${response.status}.`, response.status >= 500);
  },
} satisfies SinkKindDefinition<z.output<ReturnType<typeof ndjsonSettings>>, NdjsonConfig>;

const KINDS = { ...SINK_KINDS, ndjson: ndjsonKind } satisfies SinkKindRegistry;

/** A real receiver: records each request's bearer key, stream and events. */
class NdjsonReceiver {
  requests: Array<{ key: string; stream: string; events: SinkEvent[] }> = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const lines = Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean);
      this.requests.push({
        key: String(req.headers.authorization ?? "").replace(/^Bearer /, ""),
        stream: new URL(req.url ?? "/", "http://x").searchParams.get("stream") ?? "",
        events: lines.map((line) => JSON.parse(line) as SinkEvent),
      });
      res.writeHead(204).end();
    });
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }
  get events(): SinkEvent[] {
    return this.requests.flatMap((r) => r.events);
  }
  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let database: TestDatabase;
let tenantId: string;
let admin: Caller;
const receiver = new NdjsonReceiver();
const API_KEY = "ndjson-key-entered-1";

async function refusal(promise: Promise<unknown>): Promise<{ code: string; fields: Record<string, string[]> }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { code: error.code, fields: error.fieldErrors ?? {} };
}

/** Appends `count` events to the tenant's trail; their seqs. */
async function append(count: number): Promise<bigint[]> {
  const [head] = await getDb().$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${tenantId}`;
  await appendEvents(tenantId, count);
  const rows = await getDb().auditEvent.findMany({ where: { chain: tenantId, seq: { gt: head?.seq ?? 0n } }, orderBy: { seq: "asc" } });
  return rows.map((r) => r.seq);
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
  delete process.env.SINK_SECRET_KEY_FILE;
  forgetDeploymentSinkSecretKeys();
  tenantId = (await getDb().tenant.create({ data: { slug: "acme", name: "Acme" } })).id;
  const user = await getDb().user.create({ data: { email: "admin@acme.example" } });
  await getDb().membership.create({ data: { tenantId, userId: user.id, role: "ADMIN" } });
  admin = { userId: user.id, request: { sourceIp: "10.0.0.1", userAgent: "test", requestId: null } };
  await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
  await disconnectDb();
  await database?.drop();
});

describe("a sink kind added in one definition", () => {
  it("is offered by the form, validated, stored with its secret sealed, shown, and delivered by the outbox job", async () => {
    // The form: the kind's fields, from the registry; the submitted fields map onto its settings and secret.
    const form = sinkKindForms(KINDS).find((k) => k.kind === "ndjson")!;
    expect(form.fields.map((f) => f.name)).toEqual(["url", "apiKey", "stream", "caCertificate"]);
    const submitted = new FormData();
    for (const [name, value] of Object.entries({ tenantId, kind: "ndjson", name: "lines", url: receiver.url, apiKey: API_KEY, stream: "" })) {
      submitted.append(name, value);
    }
    const input = sinkInputOf(submitted, KINDS);
    expect(input).toMatchObject({ kind: "ndjson", settings: { url: receiver.url, stream: undefined }, apiKey: API_KEY });
    expect(input.settings).not.toHaveProperty("apiKey");

    // Validated: production does not know the kind; with it registered, its own rules apply.
    expect((await refusal(createSink(admin, { ...input, name: "lines" } as never))).fields.kind).toEqual(["Choose webhook, syslog or Splunk HEC."]);
    const bad = await refusal(createSink(admin, { tenantId, name: "lines", kind: "ndjson", settings: { url: receiver.url, stream: "A B" }, apiKey: "short" }, KINDS));
    expect(bad).toEqual({
      code: "bad_request",
      fields: { "settings.stream": ["Use lower-case letters for the stream."], apiKey: ["Enter the API key (8 characters or more)."] },
    });
    expect(await getDb().logSink.count()).toBe(0);

    // Stored: the entered key is sealed, never shown back, listed or audited.
    const created = await createSink(admin, input as never, KINDS);
    expect(created.secret).toBeNull();
    const row = await getDb().logSink.findUniqueOrThrow({ where: { id: created.sinkId } });
    expect(row.kind).toBe("ndjson");
    expect(row.settings).toEqual({ url: receiver.url, stream: "audit" });
    expect(Buffer.from(row.secretCiphertext!).includes(Buffer.from(API_KEY))).toBe(false);
    const view = await getSink(admin, tenantId, created.sinkId, KINDS);
    expect(view).toMatchObject({ kind: "ndjson", kindLabel: "NDJSON", target: `${new URL(receiver.url).origin} (stream audit)`, hasSecret: true, secretHandling: "entered" });
    expect(JSON.stringify(await listSinks(admin, tenantId, KINDS))).not.toContain(API_KEY);
    const createdEvent = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "sink.created" } });
    expect(createdEvent.details).toMatchObject({ kind: "ndjson", destination: new URL(receiver.url).origin });
    expect(JSON.stringify(createdEvent.details)).not.toContain(API_KEY);

    // Delivered: by the real job, through the kind's own transport, in order, with the entered key.
    const seqs = await append(3);
    await waitUntil(async () => {
      await runSinkOutbox({ budgetMs: 2_000, kinds: KINDS });
      return seqs.every((seq) => receiver.events.some((e) => e.seq === seq.toString()));
    }, "the three events at the NDJSON receiver");
    const delivered = receiver.events.map((e) => BigInt(e.seq));
    expect(delivered[0]).toBe(createdEvent.seq);
    expect(delivered.filter((s) => seqs.includes(s))).toEqual(seqs);
    expect(new Set(receiver.requests.map((r) => r.key))).toEqual(new Set([API_KEY]));
    expect(new Set(receiver.requests.map((r) => r.stream))).toEqual(new Set(["audit"]));

    // An edit that leaves the key empty keeps it; one that enters a new key replaces it.
    await updateSink(admin, { tenantId, sinkId: created.sinkId, name: "lines", kind: "ndjson", settings: { url: receiver.url, stream: "edited" }, apiKey: "" }, KINDS);
    const test = await sendTestEvent(admin, { tenantId, sinkId: created.sinkId }, undefined, KINDS);
    expect(test).toMatchObject({ ok: true });
    expect(receiver.requests.at(-1)).toMatchObject({ key: API_KEY, stream: "edited" });
    await updateSink(
      admin,
      { tenantId, sinkId: created.sinkId, name: "lines", kind: "ndjson", settings: { url: receiver.url, stream: "edited" }, apiKey: "ndjson-key-rotated" },
      KINDS,
    );
    const [after] = await append(1);
    await waitUntil(async () => {
      await runSinkOutbox({ budgetMs: 2_000, kinds: KINDS });
      return receiver.events.some((e) => e.seq === after!.toString());
    }, "the event after the key change");
    expect(receiver.requests.at(-1)!.key).toBe("ndjson-key-rotated");
  });
});
