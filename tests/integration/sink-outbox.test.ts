import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit";
import type { Env } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { backgroundJobs } from "@/lib/jobs";
import {
  createSink,
  deleteSink,
  getSink,
  listSinks,
  MAX_SINKS_PER_TENANT,
  retryFailedDeliveries,
  sendTestEvent,
  setSinkEnabled,
  updateSink,
} from "@/lib/sinks";
import { loadSinkConfig } from "@/lib/sinks/config";
import { enqueueAll, enqueueSinkBatch } from "@/lib/sinks/outbox";
import { forgetDeploymentSinkSecretKeys } from "@/lib/sinks/secrets";
import { sendBatch, verifyWebhookSignature } from "@/lib/sinks/transports";
import type { SinkEvent, SinkTransport } from "@/lib/sinks/types";
import { type DeliverOptions, deliverDue } from "@/lib/sinks/worker";
import type { Caller } from "@/lib/authz";
import { appendEvents, tamper } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";
import { postTransport, TestReceiver } from "../helpers/sink-receiver";
import { waitUntil } from "../helpers/wait";

// The log-sink outbox against a real PostgreSQL and a real HTTP receiver: every event of the
// tenant's trail reaches each sink exactly once into the outbox and at least once, in order,
// to the receiver, through outages, error answers, a worker killed mid-send and several
// workers at once. Failures are visible on the sink and can be retried. Secrets are sealed,
// shown once, and nobody outside the tenant sees or touches its sinks.

let database: TestDatabase;
let acme: string;
let globex: string;
const people: Record<"acmeAdmin" | "acmeAuditor" | "globexAdmin" | "vendor", Caller> = {} as never;
const request = { sourceIp: "10.0.0.1", userAgent: "test", requestId: null };
const receivers: TestReceiver[] = [];
const ROOT = path.resolve(__dirname, "../..");

async function makePerson(email: string, membership?: { tenant: string; role: "ADMIN" | "AUDITOR" }, vendor = false): Promise<Caller> {
  const user = await getDb().user.create({ data: { email } });
  if (membership) await getDb().membership.create({ data: { tenantId: membership.tenant, userId: user.id, role: membership.role } });
  if (vendor) await getDb().vendorAdmin.create({ data: { userId: user.id } });
  return { userId: user.id, request };
}

async function receiver(): Promise<TestReceiver> {
  const r = new TestReceiver();
  await r.start();
  receivers.push(r);
  return r;
}

async function webhookSink(name: string, url: string, filter?: { actions?: string[]; outcomes?: string[] }): Promise<string> {
  const { sinkId } = await createSink(people.acmeAdmin, { tenantId: acme, name, kind: "webhook", settings: { url }, filter } as never);
  return sinkId;
}

const fast: Omit<DeliverOptions, "budgetMs"> = {
  transport: postTransport,
  allowPrivateTargets: true,
  maxAgeMs: 3_600_000,
  backoff: { baseMs: 40, capMs: 400 },
  timeoutMs: 5_000,
};

/**
 * Options for a pass that makes exactly one attempt: it stops after its first request. A pass
 * otherwise goes on while its budget lasts, and on a busy machine a short backoff can run out
 * before the pass looks again, so it would count two attempts.
 */
function oneAttempt(): Pick<DeliverOptions, "transport" | "signal" | "concurrency"> {
  const stop = new AbortController();
  return {
    signal: stop.signal,
    concurrency: 1,
    transport: async (config, events, options) => {
      try {
        await postTransport(config, events, options);
      } finally {
        stop.abort();
      }
    },
  };
}

/** Runs the job's two halves until nothing of the sink's is left to send (failed batches wait for a retry). */
async function drain(sinkId: string, options: Partial<DeliverOptions> = {}, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    await enqueueAll({ budgetMs: 1_000 });
    await deliverDue({ ...fast, budgetMs: 1_000, ...options });
    const left = await getDb().sinkDelivery.count({ where: { sinkId, status: { not: "failed" } } });
    const sink = await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } });
    const [head] = await getDb().$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${acme}`;
    if (left === 0 && sink.enqueuedSeq >= (head?.seq ?? 0n)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`outbox not drained: ${left} batches left`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function acmeSeqsAfter(seq: bigint): Promise<bigint[]> {
  const rows = await getDb().auditEvent.findMany({ where: { chain: acme, seq: { gt: seq } }, select: { seq: true }, orderBy: { seq: "asc" } });
  return rows.map((r) => r.seq);
}

function seqsOf(events: Array<{ seq: string; chain: string }>): bigint[] {
  return events.filter((e) => e.chain === acme).map((e) => BigInt(e.seq));
}

/** Each seq of `expected` arrived; the first arrival of each is in seq order. */
function expectAllInOrder(received: bigint[], expected: bigint[]) {
  const firstArrival: bigint[] = [];
  const seen = new Set<bigint>();
  for (const s of received) {
    if (!seen.has(s)) firstArrival.push(s);
    seen.add(s);
  }
  expect(firstArrival.filter((s) => expected.includes(s))).toEqual(expected);
}

async function expectRefused(promise: Promise<unknown>, code: "forbidden" | "not_found" | "bad_request" | "conflict") {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(error) ? error.code : error).toBe(code);
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
  delete process.env.SINK_SECRET_KEY_FILE;
  forgetDeploymentSinkSecretKeys();
  acme = (await getDb().tenant.create({ data: { slug: "acme", name: "Acme" } })).id;
  globex = (await getDb().tenant.create({ data: { slug: "globex", name: "Globex" } })).id;
  people.acmeAdmin = await makePerson("admin@acme.example", { tenant: acme, role: "ADMIN" });
  people.acmeAuditor = await makePerson("auditor@acme.example", { tenant: acme, role: "AUDITOR" });
  people.globexAdmin = await makePerson("admin@globex.example", { tenant: globex, role: "ADMIN" });
  people.vendor = await makePerson("vendor@custody.example", undefined, true);
  await appendEvents(acme, 5);
});

afterEach(async () => {
  // Each test's sinks go, so the next test's deliveries are its own.
  for (const sink of await getDb().logSink.findMany({ where: { tenantId: acme } })) {
    await deleteSink(people.acmeAdmin, { tenantId: acme, sinkId: sink.id });
  }
  for (const r of receivers.splice(0)) await r.stop();
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("secrets", () => {
  it("are generated for webhooks and shown once, sealed at rest, never listed or audited, and need the right key", async () => {
    const r = await receiver();
    const created = await createSink(people.acmeAdmin, { tenantId: acme, name: "signed", kind: "webhook", settings: { url: r.url } });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const secret = created.secret!;
    const hec = await createSink(people.acmeAdmin, {
      tenantId: acme,
      name: "splunk",
      kind: "splunk_hec",
      settings: { url: r.url, index: "main" },
      token: "5b3c8f2e-hec-token-entered",
    });
    expect(hec.secret).toBeNull();

    // The column holds neither secret.
    const rows = await getDb().$queryRaw<Array<{ blob: Buffer }>>`SELECT secret_ciphertext AS blob FROM log_sinks WHERE tenant_id = ${acme}::uuid`;
    for (const row of rows) {
      expect(row.blob.includes(Buffer.from(secret))).toBe(false);
      expect(row.blob.includes(Buffer.from("hec-token-entered"))).toBe(false);
    }
    // Nor does anything the console reads, nor the trail.
    const listed = JSON.stringify(await listSinks(people.acmeAdmin, acme));
    expect(listed).not.toContain(secret);
    expect(listed).not.toContain("hec-token-entered");
    const trail = await getDb().auditEvent.findMany({ where: { chain: acme } });
    expect(JSON.stringify(trail, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/whsec_|hec-token-entered/);

    // The worker's view opens it; another deployment key does not.
    expect((await loadSinkConfig(created.sinkId))?.secret).toBe(secret);
    const key = process.env.SINK_SECRET_KEY;
    process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
    forgetDeploymentSinkSecretKeys();
    try {
      await expect(loadSinkConfig(created.sinkId)).rejects.toThrow(/SINK_SECRET_PREVIOUS_KEYS|does not open/);
    } finally {
      process.env.SINK_SECRET_KEY = key;
      forgetDeploymentSinkSecretKeys();
    }

    // Rotation hands out a new secret once; an edit without it keeps the old one.
    const rotated = await updateSink(people.acmeAdmin, { tenantId: acme, sinkId: created.sinkId, name: "signed", kind: "webhook", settings: { url: r.url }, rotateSecret: true });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    await updateSink(people.acmeAdmin, { tenantId: acme, sinkId: created.sinkId, name: "renamed", kind: "webhook", settings: { url: r.url } });
    expect((await loadSinkConfig(created.sinkId))?.secret).toBe(rotated.secret);
  });
});

describe("the enqueuer", () => {
  it("puts every event in each sink's outbox exactly once, under concurrent enqueuers and appends", async () => {
    const all = await webhookSink("all", "http://127.0.0.1:9/none");
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: all } })).enqueuedSeq;
    let appending = true;
    const appenders = Promise.all(
      [0, 1, 2].map(async (w) => {
        for (let i = 0; i < 40; i++) await appendEvents(acme, 3, w * 1000 + i * 3);
      }),
    ).finally(() => (appending = false));
    const enqueuers = Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (appending) {
          await enqueueSinkBatch(all, 7);
        }
        await enqueueAll({ budgetMs: 5_000, batchSize: 7 });
      }),
    );
    await Promise.all([appenders, enqueuers]);
    await enqueueAll({ budgetMs: 5_000, batchSize: 7 });

    const batches = await getDb().sinkDelivery.findMany({ where: { sinkId: all }, orderBy: { firstSeq: "asc" } });
    const enqueued = batches.flatMap((b) => b.seqs);
    // sink.created is the sink's first event; then every event appended, once, in order.
    expect(enqueued).toEqual(await acmeSeqsAfter(start));
    expect(new Set(enqueued).size).toBe(enqueued.length);
    expect(enqueued.length).toBeGreaterThanOrEqual(361);
    expect(Math.max(...batches.map((b) => b.seqs.length))).toBeLessThanOrEqual(7);
  });

  it("applies the sink's filter, and a new sink starts at its own creation", async () => {
    const only = await webhookSink("denied unwraps", "http://127.0.0.1:9/none", { actions: ["key.unwrap"], outcomes: ["denied"] });
    for (const outcome of ["success", "denied", "failure", "denied"] as const) {
      await recordAuditEvent({ tenantId: acme, actor: { type: "service", id: "c", label: "app" }, action: "key.unwrap", outcome, request });
    }
    await recordAuditEvent({ tenantId: acme, actor: { type: "service", id: "c", label: "app" }, action: "key.wrap", outcome: "denied", request });
    await enqueueAll({ budgetMs: 5_000 });
    const batches = await getDb().sinkDelivery.findMany({ where: { sinkId: only } });
    const events = await getDb().auditEvent.findMany({ where: { chain: acme, seq: { in: batches.flatMap((b) => b.seqs) } } });
    expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual(["key.unwrap DENIED", "key.unwrap DENIED"]);
    const sink = await getDb().logSink.findUniqueOrThrow({ where: { id: only } });
    const [head] = await getDb().$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${acme}`;
    expect(sink.enqueuedSeq).toBe(head!.seq);
  });

  it("moves past events retention deleted before they were enqueued, and says so on the sink", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("late", r.url);
    await setSinkEnabled(people.acmeAdmin, { tenantId: acme, sinkId, enabled: false });
    const before = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await appendEvents(acme, 10);
    // As retention would: the oldest events not yet enqueued are gone.
    await tamper(database.url, "DELETE FROM audit_events WHERE chain = $1 AND seq > $2 AND seq <= $3", [acme, before.toString(), (before + 4n).toString()]);
    await setSinkEnabled(people.acmeAdmin, { tenantId: acme, sinkId, enabled: true });
    await drain(sinkId);
    const view = await getSink(people.acmeAuditor, acme, sinkId);
    expect(view.status.skipped.events).toBe(4);
    expect(view.status.skipped.at).not.toBeNull();
    expect(seqsOf(r.events)).toEqual(await acmeSeqsAfter(before + 4n));
  });
});

describe("delivery", () => {
  it("survives a receiver that refuses connections, then answers 500, then recovers: nothing lost, order kept, backoff visible", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("flaky", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await appendEvents(acme, 250);
    await enqueueAll({ budgetMs: 5_000 });
    await r.stop();

    // Down: the first batch fails and backs off; the later batches wait their turn.
    await deliverDue({ ...fast, budgetMs: 1_000, random: () => 0.999, ...oneAttempt() });
    let view = await getSink(people.acmeAdmin, acme, sinkId);
    expect(view.status.health).toBe("retrying");
    expect(view.status.lastError).toBe("Cannot connect to the receiver.");
    expect(view.status.backlog.queuedEvents).toBe(251);
    let batches = await getDb().sinkDelivery.findMany({ where: { sinkId }, orderBy: { firstSeq: "asc" } });
    expect(batches.map((b) => b.attempts)).toEqual([1, 0, 0]);

    // Up but failing: attempts grow, each wait about base·2^(n−1) (jitter pinned to its ceiling).
    await r.start();
    r.status = 500;
    const waits: number[] = [];
    for (let attempt = 2; attempt <= 4; attempt++) {
      const [head] = await getDb().sinkDelivery.findMany({ where: { sinkId }, orderBy: { firstSeq: "asc" }, take: 1 });
      await new Promise((res) => setTimeout(res, Math.max(head!.nextAttemptAt.getTime() - Date.now(), 0) + 10));
      await deliverDue({ ...fast, budgetMs: 1_000, random: () => 0.999, ...oneAttempt() });
      const [after] = await getDb().sinkDelivery.findMany({ where: { sinkId }, orderBy: { firstSeq: "asc" }, take: 1 });
      expect(after!.attempts).toBe(attempt);
      waits.push(after!.nextAttemptAt.getTime() - after!.lastAttemptAt!.getTime());
    }
    // Each wait runs from the attempt's start, so it includes the attempt itself, which a busy
    // machine stretches: lower bounds only (worker.test.ts checks the delays exactly).
    expect(waits[0]).toBeGreaterThanOrEqual(60);
    expect(waits[1]).toBeGreaterThanOrEqual(140);
    expect(waits[2]).toBeGreaterThanOrEqual(300);
    view = await getSink(people.acmeAdmin, acme, sinkId);
    expect(view.status.lastError).toBe("The receiver answered HTTP 500.");
    expect(view.status.consecutiveFailures).toBe(4);
    expect(view.status.nextRetryAt).not.toBeNull();
    expect(r.batches).toHaveLength(0);

    // Back: everything, in order, and the sink is healthy again.
    r.status = 200;
    await drain(sinkId);
    expectAllInOrder(seqsOf(r.events), await acmeSeqsAfter(start));
    expect(r.events.every((e) => e.id === `${e.chain}:${e.seq}`)).toBe(true);
    view = await getSink(people.acmeAdmin, acme, sinkId);
    expect(view.status.health).toBe("healthy");
    expect(view.status.lastSuccessAt).not.toBeNull();
    expect(view.status.delivered.total).toBeGreaterThanOrEqual(251);
    expect(view.status.delivered.lastHour).toBe(view.status.delivered.total);
    expect(view.status.delivered.perMinute).toBeGreaterThan(0);
    expect(view.status.backlog).toEqual({ queuedEvents: 0, queuedBatches: 0, notYetQueued: 0 });
    batches = await getDb().sinkDelivery.findMany({ where: { sinkId } });
    expect(batches).toHaveLength(0); // delivered batches do not pile up
  });

  it("marks a batch failed after the maximum age or a refusal, shows it, lets later batches through, and retries it on request", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("aging", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await appendEvents(acme, 150);
    await enqueueAll({ budgetMs: 5_000 });
    r.status = 503;
    const aging = { maxAgeMs: 150, backoff: { baseMs: 10, capMs: 20 } };
    await waitUntil(async () => {
      await deliverDue({ ...fast, ...aging, budgetMs: 200 });
      return (await getDb().sinkDelivery.count({ where: { sinkId, status: "failed" } })) > 0;
    }, "a batch to age out");
    let view = await getSink(people.acmeAuditor, acme, sinkId);
    expect(view.status.health).toBe("failing");
    expect(view.status.failed.batches).toBeGreaterThanOrEqual(1);
    expect(view.status.failed.oldestAt).not.toBeNull();
    expect(view.status.lastError).toBe("The receiver answered HTTP 503.");

    // A refusal (4xx) is failed at once: retrying the same batch cannot help.
    // (A batch still backing off from the 503s is due a moment later: deliver until none is left.)
    r.status = 400;
    await waitUntil(async () => {
      await deliverDue({ ...fast, budgetMs: 1_000 });
      return (await getDb().sinkDelivery.count({ where: { sinkId, status: { not: "failed" } } })) === 0;
    }, "every batch refused");
    view = await getSink(people.acmeAuditor, acme, sinkId);
    expect(view.status.failed.events).toBe(151);

    // New events still flow once the receiver is back; the failed ones wait for a retry.
    r.status = 200;
    await appendEvents(acme, 3);
    await drain(sinkId);
    expect(seqsOf(r.events)).toHaveLength(3);
    await expectRefused(retryFailedDeliveries(people.acmeAuditor, { tenantId: acme, sinkId }), "forbidden");
    const retried = await retryFailedDeliveries(people.acmeAdmin, { tenantId: acme, sinkId });
    expect(retried.events).toBe(151);
    await drain(sinkId);
    view = await getSink(people.acmeAuditor, acme, sinkId);
    expect(view.status.health).toBe("healthy");
    expect(new Set(seqsOf(r.events))).toEqual(new Set(await acmeSeqsAfter(start)));
    const audited = await getDb().auditEvent.findFirst({ where: { chain: acme, action: "sink.retried", outcome: "SUCCESS" }, orderBy: { seq: "desc" } });
    expect(audited?.details).toMatchObject({ batches: 2, events: 151 });
  });

  it("fails a batch at once, saying what to do, when the sink's secret does not open with the deployment's key", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("rekeyed", r.url);
    await enqueueAll({ budgetMs: 2_000 });
    const key = process.env.SINK_SECRET_KEY;
    process.env.SINK_SECRET_KEY = randomBytes(32).toString("base64");
    forgetDeploymentSinkSecretKeys();
    try {
      await deliverDue({ ...fast, budgetMs: 1_000 });
    } finally {
      process.env.SINK_SECRET_KEY = key;
      forgetDeploymentSinkSecretKeys();
    }
    const view = await getSink(people.acmeAdmin, acme, sinkId);
    expect(view.status.health).toBe("failing");
    expect(view.status.lastError).toMatch(/SINK_SECRET_PREVIOUS_KEYS/);
    expect(r.batches).toHaveLength(0);
  });

  it("never lets two workers send one batch at once, nor two batches of one sink", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("busy", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await appendEvents(acme, 600);
    await enqueueAll({ budgetMs: 5_000 });
    // Three "instances" of four lanes each.
    await Promise.all([0, 1, 2].map(() => deliverDue({ ...fast, budgetMs: 10_000, concurrency: 4 })));
    expect(r.maxInFlight).toBe(1);
    const received = seqsOf(r.events);
    expect(received).toEqual(await acmeSeqsAfter(start)); // each once, in order
  });

  it("delivers every event at least once when a worker process is killed (-9) mid-delivery", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("crash", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await appendEvents(acme, 300);
    await enqueueAll({ budgetMs: 5_000 });

    const spawnWorker = (): ChildProcess =>
      // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a child process, which SIGKILL would orphan.
      spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "tests/helpers/sink-worker-child.ts"], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: database.url, SINK_TEST_LEASE_MS: "1500" },
        stdio: ["ignore", "pipe", "pipe"],
      });
    // Let one batch through, then hold the second: the worker is killed while the receiver has it.
    r.holdAfterBatches = 1;
    let worker = spawnWorker();
    await r.nextHeld(30_000);
    expect(r.batches).toHaveLength(1);
    const exited = new Promise((res) => worker.once("exit", res));
    worker.kill("SIGKILL");
    await exited;
    r.drop(); // the dead worker's request is never answered
    const inFlight = await getDb().sinkDelivery.findMany({ where: { sinkId, status: "delivering" } });
    expect(inFlight).toHaveLength(1);

    // A new process takes the batch over once the lease has expired, and finishes the job.
    worker = spawnWorker();
    try {
      await waitUntil(async () => (await getDb().sinkDelivery.count({ where: { sinkId } })) === 0, "the new worker to finish the job", 40_000);
    } finally {
      const gone = new Promise((res) => worker.once("exit", res));
      worker.kill("SIGKILL");
      await gone;
    }
    expect(await getDb().sinkDelivery.count({ where: { sinkId } })).toBe(0);
    const expected = await acmeSeqsAfter(start);
    expectAllInOrder(seqsOf(r.events), expected);
    expect(new Set(seqsOf(r.events))).toEqual(new Set(expected));
  });

  it("sends a batch too large for one request in parts, in order, none lost", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("large", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await getDb().$transaction(async (tx) => {
      const { appendAuditEvent } = await import("@/lib/audit");
      for (let i = 0; i < 40; i++) {
        await appendAuditEvent(tx, {
          tenantId: acme,
          actor: { type: "service", id: "c", label: "app" },
          action: "key.batch_unwrap",
          outcome: "success",
          request,
          details: { objectIds: Array.from({ length: 200 }, (_, j) => `object-${i}-${j}`) },
        });
      }
    }, { timeout: 120_000, maxWait: 60_000 }); // Prisma's 5 s default is a race on a busy machine
    await enqueueAll({ budgetMs: 2_000 });
    expect(await getDb().sinkDelivery.count({ where: { sinkId } })).toBe(1); // one batch of 41 events
    await drain(sinkId, { maxBatchBytes: 20_000 });
    expect(r.batches.length).toBeGreaterThan(5);
    for (const batch of r.batches) expect(Buffer.byteLength(JSON.stringify(batch.events))).toBeLessThanOrEqual(20_000);
    expect(seqsOf(r.events)).toEqual(await acmeSeqsAfter(start));
    expect((await getSink(people.acmeAdmin, acme, sinkId)).status.delivered.total).toBe(41);
  });

  it("halves a batch the receiver refuses as too large (413) until it is accepted: nothing lost, order kept", async () => {
    const received: SinkEvent[] = [];
    let refused = 0;
    // A receiver that takes at most 3 events per request, as a SIEM with a body limit would.
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events: SinkEvent[] };
        if (events.length > 3) {
          refused++;
          res.writeHead(413).end();
          return;
        }
        received.push(...events);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const { sinkId } = await createSink(people.acmeAdmin, { tenantId: acme, name: "small-bodies", kind: "webhook", settings: { url } });
      const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
      await appendEvents(acme, 25);
      await drain(sinkId, { transport: sendBatch, allowHttp: true });
      expect(refused).toBeGreaterThan(0);
      expect(seqsOf(received)).toEqual(await acmeSeqsAfter(start));
      const sink = await getSink(people.acmeAdmin, acme, sinkId);
      expect(sink.status.health).toBe("healthy");
      expect(await getDb().sinkDelivery.count({ where: { sinkId, status: "failed" } })).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("sets aside an event too large for the receiver on its own, and delivers the rest of its batch in order", async () => {
    const received: SinkEvent[] = [];
    let refused = 0;
    // A receiver with a 6 KB body limit, as a SIEM would have: one event is larger than that alone.
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (body.length > 6_000) {
          refused++;
          res.writeHead(413).end();
          return;
        }
        received.push(...(JSON.parse(body.toString("utf8")) as { events: SinkEvent[] }).events);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const { sinkId } = await createSink(people.acmeAdmin, { tenantId: acme, name: "body-limit", kind: "webhook", settings: { url } });
      const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
      await appendEvents(acme, 3);
      const big = await recordAuditEvent({
        tenantId: acme,
        actor: { type: "service", id: "c", label: "app" },
        action: "key.batch_unwrap",
        outcome: "success",
        request,
        details: { objectIds: Array.from({ length: 1_000 }, (_, j) => `object-${j}`) },
      });
      await appendEvents(acme, 10);
      await enqueueAll({ budgetMs: 2_000 });
      expect(await getDb().sinkDelivery.count({ where: { sinkId } })).toBe(1); // all 15 in one batch
      await drain(sinkId, { transport: sendBatch, allowHttp: true });

      expect(refused).toBeGreaterThan(0);
      const everything = await acmeSeqsAfter(start);
      expect(seqsOf(received)).toEqual(everything.filter((s) => s !== big.seq));
      const failed = await getDb().sinkDelivery.findMany({ where: { sinkId } });
      expect(failed.map((d) => ({ status: d.status, seqs: d.seqs }))).toEqual([{ status: "failed", seqs: [big.seq] }]);
      const view = await getSink(people.acmeAuditor, acme, sinkId);
      expect(view.status.health).toBe("failing");
      expect(view.status.failed).toMatchObject({ batches: 1, events: 1 });
      expect(view.status.lastError).toContain(`Event ${acme}:${big.seq} is too large for the receiver on its own`);
      expect(failed[0]!.lastError).toBe(view.status.lastError);

      // A retry sends it alone again and sets it aside again; later events keep flowing.
      await retryFailedDeliveries(people.acmeAdmin, { tenantId: acme, sinkId });
      await appendEvents(acme, 2);
      await drain(sinkId, { transport: sendBatch, allowHttp: true });
      expect(seqsOf(received).slice(-2)).toEqual((await acmeSeqsAfter(start)).slice(-2));
      expect((await getDb().sinkDelivery.findMany({ where: { sinkId } })).map((d) => d.seqs)).toEqual([[big.seq]]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("keeps a batch's lease while it halves for a receiver slow to refuse it, so no other worker sends it meanwhile", async () => {
    const received: SinkEvent[] = [];
    let sinkId = "";
    let inFlight = 0;
    let maxInFlight = 0;
    const leaseLapses: number[] = [];
    let slow = true;
    // Takes 250 ms per request and refuses more than one event as too large: halving a batch of
    // 16 takes five requests, over a second, longer than the 800 ms lease.
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          void (async () => {
            // Answering now: the batch must still be this worker's, its lease unexpired.
            const [held] = await getDb().$queryRaw<Array<{ n: bigint }>>`
              SELECT count(*) AS n FROM sink_deliveries WHERE sink_id = ${sinkId}::uuid AND status = 'delivering' AND lease_until > now()`;
            if (held!.n !== 1n) leaseLapses.push(Date.now());
            inFlight--;
            const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events: SinkEvent[] };
            if (slow && events.length > 1) {
              res.writeHead(413).end();
              return;
            }
            received.push(...events);
            res.writeHead(204).end();
          })();
        }, slow ? 250 : 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      sinkId = (await createSink(people.acmeAdmin, { tenantId: acme, name: "slow-413", kind: "webhook", settings: { url } })).sinkId;
      const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
      await appendEvents(acme, 15);
      await enqueueAll({ budgetMs: 2_000 });
      const options = { transport: sendBatch, allowHttp: true, leaseMs: 800, timeoutMs: 5_000 };
      // Two instances: the first claims the batch; the second polls for batches whose lease has run out.
      const firstRun = deliverDue({ ...fast, ...options, budgetMs: 100, concurrency: 1 });
      await waitUntil(async () => (await getDb().sinkDelivery.count({ where: { sinkId, status: "delivering" } })) === 1, "the first instance's claim");
      let done = false;
      const second = (async () => {
        while (!done) {
          await deliverDue({ ...fast, ...options, budgetMs: 200 });
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const first = await firstRun;
      done = true;
      await second;
      expect(first.delivered).toBe(1); // the first event, after four refusals
      expect(leaseLapses).toEqual([]);
      expect(maxInFlight).toBe(1);
      slow = false; // the rest of the batch, quickly
      await drain(sinkId, options);
      expect(seqsOf(received)).toEqual(await acmeSeqsAfter(start));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("pauses a disabled sink and catches up when it is enabled again", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("paused", r.url);
    const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } })).enqueuedSeq;
    await setSinkEnabled(people.acmeAdmin, { tenantId: acme, sinkId, enabled: false });
    await appendEvents(acme, 20);
    await enqueueAll({ budgetMs: 2_000 });
    await deliverDue({ ...fast, budgetMs: 500 });
    expect(r.batches).toHaveLength(0);
    expect((await getSink(people.acmeAdmin, acme, sinkId)).status.health).toBe("disabled");
    await setSinkEnabled(people.acmeAdmin, { tenantId: acme, sinkId, enabled: true });
    await drain(sinkId);
    expect(seqsOf(r.events)).toEqual(await acmeSeqsAfter(start));
  });
});

describe("fair scheduling", () => {
  async function globexSink(name: string, url: string): Promise<string> {
    return (await createSink(people.globexAdmin, { tenantId: globex, name, kind: "webhook", settings: { url } })).sinkId;
  }

  it("gives every sink with due batches a turn before any sink gets a second one", async () => {
    const r = await receiver();
    const order: string[] = [];
    const sinks = new Map<string, string>();
    const transport: SinkTransport = async (config, events, options) => {
      order.push(sinks.get(String(config.url))!);
      await postTransport(config, events, options);
    };
    for (const name of ["a1", "a2"]) sinks.set(`${r.url}/${name}`, await webhookSink(name, `${r.url}/${name}`));
    await appendEvents(acme, 500); // five batches each, queued first
    await enqueueAll({ budgetMs: 5_000 });
    const b = await globexSink("b", `${r.url}/b`);
    sinks.set(`${r.url}/b`, b);
    try {
      await appendEvents(globex, 3);
      await enqueueAll({ budgetMs: 5_000 });
      // One lane: the order of claims is the schedule.
      await deliverDue({ ...fast, transport, budgetMs: 10_000, concurrency: 1 });
      const [a1, a2] = [...sinks.values()];
      expect(new Set(order.slice(0, 3))).toEqual(new Set([a1, a2, b]));
      // Then Acme's two sinks take turns until both are done.
      expect(order.filter((id) => id === b)).toHaveLength(1);
      expect(order.filter((id, i) => i > 0 && id === order[i - 1])).toEqual([]);
      expect(order.length).toBeGreaterThanOrEqual(11);
      expect(await getDb().sinkDelivery.count({ where: { sinkId: { in: [a1!, a2!, b] } } })).toBe(0);
    } finally {
      await deleteSink(people.globexAdmin, { tenantId: globex, sinkId: b });
    }
  });

  it("does not let one tenant's slow receivers hold every lane: another tenant's events go in the first pass", async () => {
    const r = await receiver();
    const fastR = await receiver();
    let slowInFlight = 0;
    let maxSlowInFlight = 0;
    const slowUrls = new Set<string>();
    const transport: SinkTransport = async (config, events, options) => {
      if (!slowUrls.has(String(config.url))) return postTransport(config, events, options);
      slowInFlight++;
      maxSlowInFlight = Math.max(maxSlowInFlight, slowInFlight);
      try {
        await new Promise((res) => setTimeout(res, 1_000)); // a receiver that takes a second per request
        await postTransport(config, events, options);
      } finally {
        slowInFlight--;
      }
    };
    for (let i = 0; i < 4; i++) {
      const url = `${r.url}/slow${i}`;
      slowUrls.add(url);
      await webhookSink(`slow ${i}`, url);
    }
    await appendEvents(acme, 1_000); // ten batches per slow sink, queued first
    await enqueueAll({ budgetMs: 5_000 });
    const b = await globexSink("fast", fastR.url);
    try {
      await appendEvents(globex, 5);
      await enqueueAll({ budgetMs: 5_000 });
      // One pass, started with Acme's backlog queued first: it delivers Globex's sink.created
      // and its five events (no elapsed-time bound: the pass's outcome is the evidence).
      await deliverDue({ ...fast, transport, budgetMs: 500, concurrency: 4 });
      expect(fastR.events.map((e) => e.chain)).toEqual(Array(6).fill(globex));
      expect(await getDb().sinkDelivery.count({ where: { sinkId: b } })).toBe(0);
      // Acme is still busy: most of its backlog waits, and it never had more than half the lanes.
      expect(await getDb().sinkDelivery.count({ where: { sink: { tenantId: acme } } })).toBeGreaterThan(30);
      expect(maxSlowInFlight).toBe(2);
    } finally {
      await deleteSink(people.globexAdmin, { tenantId: globex, sinkId: b });
    }
  });
});

describe("the background job", () => {
  it("delivers through the real webhook transport, signed with the secret shown at creation", async () => {
    const received: SinkEvent[] = [];
    let badSignatures = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (!verifyWebhookSignature(secret, req.headers["custody-signature"] as string | undefined, body)) {
          badSignatures++;
          res.writeHead(401).end();
          return;
        }
        received.push(...(JSON.parse(body.toString("utf8")) as { events: SinkEvent[] }).events);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    let secret = "";
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const created = await createSink(people.acmeAdmin, { tenantId: acme, name: "real", kind: "webhook", settings: { url } });
      secret = created.secret!;
      const start = (await getDb().logSink.findUniqueOrThrow({ where: { id: created.sinkId } })).enqueuedSeq;
      await appendEvents(acme, 120);
      const job = backgroundJobs({ AUDIT_CHECKPOINT_INTERVAL_MINUTES: 60 } as Env).find((j) => j.name === "log-sinks")!;
      const expected = await acmeSeqsAfter(start);
      // One run follows the trail (woken by commits) until it is stopped.
      const stop = new AbortController();
      const run = job.run(stop.signal);
      try {
        await waitUntil(() => received.length >= expected.length, "every event to arrive");
      } finally {
        stop.abort();
        await run;
      }
      expect(badSignatures).toBe(0);
      expect(seqsOf(received)).toEqual(expected);
      expect((await getSink(people.acmeAdmin, acme, created.sinkId)).status.health).toBe("healthy");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("send test event", () => {
  it("sends a marked test event now, reports the result inline, and audits the test (not the event)", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("tested", r.url);
    const before = await getDb().auditEvent.count({ where: { chain: acme } });
    const ok = await sendTestEvent(people.acmeAdmin, { tenantId: acme, sinkId }, postTransport);
    expect(ok).toMatchObject({ ok: true, message: "The receiver accepted the test event." });
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ action: "sink.tested", seq: "0", targetId: sinkId, details: { test: true } });
    expect(r.events[0]!.id).toMatch(/^test:/);
    await r.stop();
    const down = await sendTestEvent(people.acmeAdmin, { tenantId: acme, sinkId }, postTransport);
    expect(down).toMatchObject({ ok: false, message: "Cannot connect to the receiver." });
    const tests = await getDb().auditEvent.findMany({ where: { chain: acme }, orderBy: { seq: "desc" }, take: 2 });
    expect(tests.map((e) => `${e.action} ${e.outcome}`)).toEqual(["sink.tested FAILURE", "sink.tested SUCCESS"]);
    expect(await getDb().auditEvent.count({ where: { chain: acme } })).toBe(before + 2);
  });
});

describe("send test event, rate-limited per sink", () => {
  afterEach(() => {
    delete process.env.SINK_TESTS_PER_MINUTE;
  });

  it("refuses tests past the limit without connecting or auditing, per sink", async () => {
    process.env.SINK_TESTS_PER_MINUTE = "2";
    const r = await receiver();
    try {
      const first = await webhookSink("limited-a", r.url);
      const second = await webhookSink("limited-b", r.url);
      const before = await getDb().auditEvent.count({ where: { chain: acme, action: "sink.tested" } });
      for (let i = 0; i < 2; i++) expect(await sendTestEvent(people.acmeAdmin, { tenantId: acme, sinkId: first }, postTransport)).toMatchObject({ ok: true });
      const refused = await refusal(sendTestEvent(people.acmeAdmin, { tenantId: acme, sinkId: first }, postTransport));
      expect(refused.code).toBe("rate_limited");
      expect(refused.message).toMatch(/^This sink was tested 2 times in the last minute\. Try again in \d+ s\.$/);
      expect(r.events).toHaveLength(2);
      expect(await getDb().auditEvent.count({ where: { chain: acme, action: "sink.tested" } })).toBe(before + 2);
      // Another sink has its own count.
      expect(await sendTestEvent(people.acmeAdmin, { tenantId: acme, sinkId: second }, postTransport)).toMatchObject({ ok: true });
    } finally {
      await r.stop();
    }
  });
});

describe("tenant isolation", () => {
  it("keeps a tenant's sinks from other tenants' admins, and changes to its admins", async () => {
    const r = await receiver();
    const sinkId = await webhookSink("private", r.url);
    const { globexAdmin, acmeAuditor, vendor } = people;
    const edit = { tenantId: acme, sinkId, name: "hijacked", kind: "webhook" as const, settings: { url: "http://127.0.0.1:1/steal" } };

    // Through Acme's id: not a member.
    await expectRefused(listSinks(globexAdmin, acme), "forbidden");
    await expectRefused(getSink(globexAdmin, acme, sinkId), "forbidden");
    await expectRefused(updateSink(globexAdmin, edit), "forbidden");
    await expectRefused(setSinkEnabled(globexAdmin, { tenantId: acme, sinkId, enabled: false }), "forbidden");
    await expectRefused(retryFailedDeliveries(globexAdmin, { tenantId: acme, sinkId }), "forbidden");
    await expectRefused(sendTestEvent(globexAdmin, { tenantId: acme, sinkId }, postTransport), "forbidden");
    await expectRefused(deleteSink(globexAdmin, { tenantId: acme, sinkId }), "forbidden");
    await expectRefused(createSink(globexAdmin, { tenantId: acme, name: "mine", kind: "webhook", settings: { url: r.url } }), "forbidden");
    // Through Globex's own id: Acme's sink does not exist there.
    await expectRefused(getSink(globexAdmin, globex, sinkId), "not_found");
    await expectRefused(updateSink(globexAdmin, { ...edit, tenantId: globex }), "not_found");
    await expectRefused(retryFailedDeliveries(globexAdmin, { tenantId: globex, sinkId }), "not_found");
    await expectRefused(sendTestEvent(globexAdmin, { tenantId: globex, sinkId }, postTransport), "not_found");
    await expectRefused(deleteSink(globexAdmin, { tenantId: globex, sinkId }), "not_found");
    expect(await listSinks(globexAdmin, globex)).toEqual([]);
    // A vendor admin is not a tenant member either.
    await expectRefused(listSinks(vendor, acme), "forbidden");
    // Acme's auditor reads but does not change or send.
    expect((await listSinks(acmeAuditor, acme)).map((s) => s.name)).toEqual(["private"]);
    await expectRefused(updateSink(acmeAuditor, edit), "forbidden");
    await expectRefused(sendTestEvent(acmeAuditor, { tenantId: acme, sinkId }, postTransport), "forbidden");

    expect(r.batches).toHaveLength(0);
    const sink = await getDb().logSink.findUniqueOrThrow({ where: { id: sinkId } });
    expect(sink.name).toBe("private");
    expect((sink.settings as { url: string }).url).toBe(r.url);
    // Acme's own auditor's refusals are on Acme's trail; Globex's admin's are on the vendor chain
    // with ids only (an outsider writes nothing into Acme's trail, nor so into its SIEM).
    const denied = (chain: string, userId: string) =>
      getDb().auditEvent.findMany({ where: { chain, actorId: userId, outcome: "DENIED", action: { startsWith: "sink." } } });
    expect((await denied(acme, acmeAuditor.userId)).length).toBeGreaterThanOrEqual(2);
    expect(await denied(acme, globexAdmin.userId)).toEqual([]);
    const outsider = await denied("vendor", globexAdmin.userId);
    expect(outsider.length).toBeGreaterThanOrEqual(6); // each refused change (reads are refused without an event)
    expect(JSON.stringify(outsider.map((e) => e.details))).not.toContain("mine");
  });

  it("refuses bad input with field errors, and duplicate names and one sink too many with a conflict", async () => {
    const r = await receiver();
    await webhookSink("dup", r.url);
    await expectRefused(createSink(people.acmeAdmin, { tenantId: acme, name: "dup", kind: "webhook", settings: { url: r.url } }), "conflict");
    for (let i = 1; i < MAX_SINKS_PER_TENANT; i++) await webhookSink(`sink ${i}`, r.url);
    await expectRefused(createSink(people.acmeAdmin, { tenantId: acme, name: "one too many", kind: "webhook", settings: { url: r.url } }), "conflict");
    const error = await createSink(people.acmeAdmin, { tenantId: acme, name: "", kind: "syslog", settings: { host: "x y", port: 0, transport: "tcp" } } as never).catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe("bad_request");
    expect(isAppError(error) && Object.keys(error.fieldErrors ?? {})).toEqual(["name", "settings.host", "settings.port"]);
  });
});
