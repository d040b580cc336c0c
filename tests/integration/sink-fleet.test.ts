import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import { createSink } from "@/lib/sinks";
import { runSinkOutbox } from "@/lib/sinks/job";
import { enqueueAll } from "@/lib/sinks/outbox";
import { forgetDeploymentSinkSecretKeys } from "@/lib/sinks/secrets";
import type { SinkTransport } from "@/lib/sinks/types";
import { deliverDue } from "@/lib/sinks/worker";
import { appendEvents } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { postTransport, TestReceiver } from "../helpers/sink-receiver";
import { waitUntil } from "../helpers/wait";

// Log sinks at fleet scale: the job is woken by a commit rather than by its timer, and several
// workers claiming batches of many sinks at once (one claim statement fills every free lane)
// still send each batch once, each sink's batches one at a time and in order.

let database: TestDatabase;
const request = { sourceIp: null, userAgent: null, requestId: null };
const receiver = new TestReceiver();

async function tenantWithAdmin(slug: string): Promise<{ tenantId: string; admin: Caller }> {
  const tenant = await getDb().tenant.create({ data: { slug, name: slug } });
  const user = await getDb().user.create({ data: { email: `admin@${slug}.example` } });
  await getDb().membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "ADMIN", acceptedAt: new Date() } });
  return { tenantId: tenant.id, admin: { userId: user.id, request } };
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
  delete process.env.SINK_SECRET_KEY_FILE;
  forgetDeploymentSinkSecretKeys();
  await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
  await disconnectDb();
  await database?.drop();
});

describe("log sinks at fleet scale", () => {
  it("wakes on a commit: an event is delivered while the job's timer is ten minutes away", async () => {
    const { tenantId, admin } = await tenantWithAdmin("woken");
    const { sinkId } = await createSink(admin, { tenantId, name: "siem", kind: "webhook", settings: { url: `${receiver.url}/woken` } });
    const seqsHere = () => receiver.batches.filter((b) => b.path.endsWith("/woken")).flatMap((b) => b.events.map((e) => BigInt(e.seq)));
    const stop = new AbortController();
    // Without a commit the job would look again only after fallbackMs.
    const run = runSinkOutbox({ budgetMs: 600_000, follow: true, fallbackMs: 600_000, transport: postTransport, signal: stop.signal });
    try {
      // The first pass sends what was there (the sink's own sink.created) and then sleeps.
      await waitUntil(async () => seqsHere().length === 1 && (await getDb().sinkDelivery.count({ where: { sinkId } })) === 0, "the first pass");
      const event = await recordAuditEvent({ tenantId, actor: { type: "system", id: null, label: "test" }, action: "key.verified", outcome: "success", request, details: {} });
      await waitUntil(() => seqsHere().includes(event.seq), "the committed event to be delivered");
      expect(seqsHere()).toEqual([event.seq - 1n, event.seq]);
    } finally {
      stop.abort();
      await run;
    }
  });

  it("with three workers claiming many sinks' batches at once, sends every batch once, one at a time per sink, in order", async () => {
    const sinks = new Map<string, { tenantId: string; start: bigint }>();
    for (const slug of ["fleet-a", "fleet-b", "fleet-c"]) {
      const { tenantId, admin } = await tenantWithAdmin(slug);
      for (let i = 0; i < 4; i++) {
        const path = `${slug}-${i}`;
        const { sinkId } = await createSink(admin, { tenantId, name: path, kind: "webhook", settings: { url: `${receiver.url}/${path}` } });
        sinks.set(path, { tenantId, start: (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq });
      }
      await appendEvents(tenantId, 250);
    }
    // Batches of 25: ten or more per sink, 120 or more in all.
    await enqueueAll({ budgetMs: 60_000, batchSize: 25 });
    const inFlight = new Map<string, number>();
    let overlapping = 0;
    const transport: SinkTransport = async (config, events, options) => {
      const path = new URL(String(config.url)).pathname;
      inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
      if (inFlight.get(path)! > 1) overlapping++;
      try {
        await postTransport(config, events, options);
      } finally {
        inFlight.set(path, inFlight.get(path)! - 1);
      }
    };
    const options = { transport, allowPrivateTargets: true, maxAgeMs: 3_600_000, timeoutMs: 10_000, budgetMs: 60_000, concurrency: 4 };
    await waitUntil(async () => {
      await Promise.all([0, 1, 2].map(() => deliverDue(options)));
      return (await getDb().sinkDelivery.count()) === 0;
    }, "every batch to be delivered", 120_000);
    expect(overlapping).toBe(0);
    for (const [path, { tenantId, start }] of sinks) {
      const received = receiver.batches.filter((b) => b.path === `/ingest/${path}`).flatMap((b) => b.events.map((e) => BigInt(e.seq)));
      const expected = (await getDb().auditEvent.findMany({ where: { chain: tenantId, seq: { gt: start } }, select: { seq: true }, orderBy: { seq: "asc" } })).map((e) => e.seq);
      // Each event once, in order: no batch was sent twice.
      expect(received).toEqual(expected);
      expect(received.length).toBeGreaterThanOrEqual(250);
    }
  }, 300_000);
});
