import "server-only";
import { randomUUID } from "node:crypto";
import { AUDIT_ACTIONS, type AuditAction, appendAuditEvent, recordAuditEvent } from "@/lib/audit";
import type { AuditDetails } from "@/lib/audit/append";
import { getDb, isUniqueViolation, type Tx } from "@/lib/db";
import type { AuditOutcome, LogSink, Prisma } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { actorOf, type Caller, requireTenantRole, runAudited, type Standing, standingOf } from "@/lib/authz";
import { parseInput as parse } from "@/lib/validation/parse";
import {
  type CreateSinkInput,
  createSinkSchema,
  SINK_OUTCOMES,
  type SinkKind,
  type SinkOutcome,
  sinkActionSchema,
  type UpdateSinkInput,
  updateSinkSchema,
  type ValidCreateSink,
} from "@/lib/validation/sinks";
import { sinkConfigOf, type StoredSettings } from "./config";
import { sinkPolicy } from "./policy";
import { encryptSinkSecret, newWebhookSecret } from "./secrets";
import { SinkDeliveryError, type SinkEvent, type SinkTransport } from "./types";
import { sanitizeDeliveryError } from "./worker";

// Log sinks, the console's verbs (issue 6): tenant admins add, edit, disable, delete, retry and
// test; admins and auditors read. Another tenant's sink is not found. Every change is an event
// in the tenant's own chain (and so, in turn, goes to its sinks). Secrets are shown once, when
// generated (webhook) or never (HEC tokens are entered), and never audited or logged.
//
// A new sink receives the events from its creation on (its own `sink.created` first): its
// watermark is set just below that event. A disabled sink is paused, not emptied: nothing is
// sent while it is off, and on enabling it catches up from where it stopped. A filter change
// applies to events not yet enqueued (the outbox runs about a second behind the trail).

export type SinkHealth = "healthy" | "retrying" | "failing" | "disabled";

export type SinkStatus = {
  health: SinkHealth;
  lastSuccessAt: Date | null;
  /** Sanitised: a transport's own words, never a secret or a stack. */
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
  /** Events waiting in the outbox (failed ones aside), and the trail's events not yet looked at (before the filter). */
  backlog: { queuedEvents: number; queuedBatches: number; notYetQueued: number };
  failed: { batches: number; events: number; oldestAt: Date | null };
  /** When the next retry of the sink's oldest batch is due, if it is backing off. */
  nextRetryAt: Date | null;
  delivered: { total: number; lastHour: number; perMinute: number };
  /** Events retention deleted before they could be sent (a warning). */
  skipped: { events: number; at: Date | null };
};

export type SinkView = {
  id: string;
  tenantId: string;
  name: string;
  kind: SinkKind;
  enabled: boolean;
  settings: StoredSettings;
  /** Whether a secret is stored (it is never returned). */
  hasSecret: boolean;
  filter: { actions: string[]; outcomes: SinkOutcome[] };
  createdAt: Date;
  createdBy: string | null;
  updatedAt: Date;
  updatedBy: string | null;
  status: SinkStatus;
};

/** What a change returns: the new secret, the only time it exists outside the sink. */
export type SinkSecretOnce = { sinkId: string; secret: string | null };

export type TestResult = { ok: boolean; message: string; ms: number };

const TARGET_TYPE = "log_sink";
/** Each sink is a stream of the whole trail to deliver: a bound keeps one tenant from loading the workers. */
export const MAX_SINKS_PER_TENANT = 10;
const OUTCOME_DB: Record<SinkOutcome, AuditOutcome> = { success: "SUCCESS", denied: "DENIED", failure: "FAILURE" };

// ---------------------------------------------------------------------------------------------
// Reading

async function requireMember(caller: Caller, tenantId: string): Promise<Standing> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  return standing;
}

type Aggregates = {
  sink_id: string;
  queued_batches: bigint;
  queued_events: bigint;
  failed_batches: bigint;
  failed_events: bigint;
  oldest_failed_at: Date | null;
  next_retry_at: Date | null;
  retrying: boolean;
};

async function statusesOf(tenantId: string, sinks: LogSink[]): Promise<Map<string, SinkStatus>> {
  const ids = sinks.map((s) => s.id);
  const out = new Map<string, SinkStatus>();
  if (ids.length === 0) return out;
  const db = getDb();
  const [aggregates, rates, heads] = await Promise.all([
    db.$queryRaw<Aggregates[]>`
      SELECT sink_id::text,
             count(*) FILTER (WHERE status <> 'failed') AS queued_batches,
             coalesce(sum(cardinality(seqs)) FILTER (WHERE status <> 'failed'), 0)::bigint AS queued_events,
             count(*) FILTER (WHERE status = 'failed') AS failed_batches,
             coalesce(sum(cardinality(seqs)) FILTER (WHERE status = 'failed'), 0)::bigint AS failed_events,
             min(failed_at) AS oldest_failed_at,
             min(next_attempt_at) FILTER (WHERE status = 'pending' AND attempts > 0) AS next_retry_at,
             coalesce(bool_or(status <> 'failed' AND attempts > 0), false) AS retrying
        FROM sink_deliveries WHERE sink_id = ANY (${ids}::uuid[]) GROUP BY sink_id`,
    db.$queryRaw<Array<{ sink_id: string; last_5: bigint | null; last_60: bigint | null }>>`
      SELECT sink_id::text,
             sum(events) FILTER (WHERE minute >= date_trunc('minute', now()) - interval '5 minutes') AS last_5,
             sum(events) FILTER (WHERE minute >= now() - interval '1 hour') AS last_60
        FROM sink_delivery_stats WHERE sink_id = ANY (${ids}::uuid[]) GROUP BY sink_id`,
    db.$queryRaw<Array<{ seq: bigint }>>`SELECT seq FROM audit_chains WHERE chain = ${tenantId}`,
  ]);
  const head = heads[0]?.seq ?? 0n;
  for (const sink of sinks) {
    const a = aggregates.find((r) => r.sink_id === sink.id);
    const r = rates.find((x) => x.sink_id === sink.id);
    const failedBatches = Number(a?.failed_batches ?? 0n);
    const retrying = sink.consecutiveFailures > 0 || (a?.retrying ?? false);
    out.set(sink.id, {
      health: !sink.enabled ? "disabled" : failedBatches > 0 ? "failing" : retrying ? "retrying" : "healthy",
      lastSuccessAt: sink.lastSuccessAt,
      lastError: sink.lastError,
      lastErrorAt: sink.lastErrorAt,
      consecutiveFailures: sink.consecutiveFailures,
      backlog: {
        queuedEvents: Number(a?.queued_events ?? 0n),
        queuedBatches: Number(a?.queued_batches ?? 0n),
        notYetQueued: head > sink.enqueuedSeq ? Number(head - sink.enqueuedSeq) : 0,
      },
      failed: { batches: failedBatches, events: Number(a?.failed_events ?? 0n), oldestAt: a?.oldest_failed_at ?? null },
      nextRetryAt: a?.next_retry_at ?? null,
      delivered: {
        total: Number(sink.deliveredEvents),
        lastHour: Number(r?.last_60 ?? 0n),
        // The last five whole minutes and this one, averaged over five.
        perMinute: Math.round((Number(r?.last_5 ?? 0n) / 5) * 10) / 10,
      },
      skipped: { events: Number(sink.skippedEvents), at: sink.skippedAt },
    });
  }
  return out;
}

type SinkWithPeople = LogSink & { createdBy: { email: string } | null; updatedBy: { email: string } | null };

function viewOf(sink: SinkWithPeople, status: SinkStatus): SinkView {
  return {
    id: sink.id,
    tenantId: sink.tenantId,
    name: sink.name,
    kind: sink.kind,
    enabled: sink.enabled,
    settings: sink.settings as StoredSettings,
    hasSecret: sink.secretCiphertext !== null,
    filter: { actions: sink.filterActions, outcomes: SINK_OUTCOMES.filter((o) => sink.filterOutcomes.includes(OUTCOME_DB[o])) },
    createdAt: sink.createdAt,
    createdBy: sink.createdBy?.email ?? null,
    updatedAt: sink.updatedAt,
    updatedBy: sink.updatedBy?.email ?? null,
    status,
  };
}

const PEOPLE = { createdBy: { select: { email: true } }, updatedBy: { select: { email: true } } } as const;

/** A tenant's sinks with their status, by name: for its admins and auditors. */
export async function listSinks(caller: Caller, tenantId: string): Promise<SinkView[]> {
  parse(sinkActionSchema.pick({ tenantId: true }), { tenantId });
  await requireMember(caller, tenantId);
  const sinks = await getDb().logSink.findMany({ where: { tenantId }, orderBy: { name: "asc" }, include: PEOPLE });
  const statuses = await statusesOf(tenantId, sinks);
  return sinks.map((s) => viewOf(s, statuses.get(s.id)!));
}

/** One of a tenant's sinks; another tenant's id is not found. */
export async function getSink(caller: Caller, tenantId: string, sinkId: string): Promise<SinkView> {
  parse(sinkActionSchema, { tenantId, sinkId });
  await requireMember(caller, tenantId);
  const sink = await getDb().logSink.findFirst({ where: { id: sinkId, tenantId }, include: PEOPLE });
  if (!sink) throw notFound();
  const statuses = await statusesOf(tenantId, [sink]);
  return viewOf(sink, statuses.get(sink.id)!);
}

// ---------------------------------------------------------------------------------------------
// Changing

function notFound(): AppError {
  return new AppError("not_found", "That log sink does not exist in this tenant.");
}

/** Where events go, for the trail: scheme, host and port only (a URL's path or query may hold a token). */
function destinationOf(kind: SinkKind, settings: StoredSettings): string {
  if (kind === "syslog") return `${settings.transport}://${settings.host}:${settings.port}`;
  try {
    return new URL(settings.url ?? "").origin;
  } catch {
    return "";
  }
}

function detailsOf(name: string, kind: SinkKind, settings: StoredSettings, filter: { actions: string[]; outcomes: string[] }): AuditDetails {
  return {
    name,
    kind,
    destination: destinationOf(kind, settings),
    actions: filter.actions.length ? filter.actions : "all",
    outcomes: filter.outcomes.length ? filter.outcomes : "all",
  };
}

function settingsOf(data: { settings: Record<string, unknown> }): StoredSettings & Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(data.settings)) as StoredSettings & Prisma.InputJsonObject;
}

async function audit(tx: Tx, caller: Caller, standing: Standing, tenantId: string, action: AuditAction, sinkId: string, details: AuditDetails, outcome: "success" | "failure" = "success") {
  return appendAuditEvent(tx, {
    tenantId,
    actor: actorOf(caller, standing),
    action,
    target: { type: TARGET_TYPE, id: sinkId },
    outcome,
    request: caller.request,
    details,
  });
}

function conflictOnName(error: unknown): never {
  if (isUniqueViolation(error)) {
    throw new AppError("conflict", "This tenant already has a log sink with that name.", { name: ["Already in use."] });
  }
  throw error;
}

/** A tenant admin adds a sink. Returns the webhook's signing secret, the only time it is shown. */
export async function createSink(caller: Caller, input: CreateSinkInput): Promise<SinkSecretOnce> {
  const data: ValidCreateSink = parse(createSinkSchema(sinkPolicy()), input);
  const sinkId = randomUUID();
  const secret = data.kind === "webhook" ? newWebhookSecret() : data.kind === "splunk_hec" ? data.token : null;
  const settings = settingsOf(data);
  try {
    await runAudited(async (tx) => {
      const action = AUDIT_ACTIONS.sinkCreated;
      const standing = await requireTenantRole(tx, caller, data.tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: sinkId } });
      // Serialises creations in the tenant (the count below would race otherwise).
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${data.tenantId}::uuid FOR UPDATE`;
      if ((await tx.logSink.count({ where: { tenantId: data.tenantId } })) >= MAX_SINKS_PER_TENANT) {
        throw new AppError("conflict", `A tenant can have at most ${MAX_SINKS_PER_TENANT} log sinks; delete one first.`);
      }
      // The watermark comes from the event itself: the sink's first event is its own creation.
      await tx.logSink.create({
        data: {
          id: sinkId,
          tenantId: data.tenantId,
          name: data.name,
          kind: data.kind,
          settings,
          secretCiphertext: secret === null ? null : new Uint8Array(encryptSinkSecret(sinkId, secret)),
          filterActions: data.filter.actions,
          filterOutcomes: data.filter.outcomes.map((o) => OUTCOME_DB[o]),
          enqueuedSeq: 0n,
          createdById: caller.userId,
          updatedById: caller.userId,
        },
      });
      const event = await audit(tx, caller, standing, data.tenantId, action, sinkId, detailsOf(data.name, data.kind, settings, data.filter));
      await tx.logSink.update({ where: { id: sinkId }, data: { enqueuedSeq: event.seq - 1n } });
    });
  } catch (error) {
    conflictOnName(error);
  }
  // HEC tokens were entered by the admin: nothing to show back.
  return { sinkId, secret: data.kind === "webhook" ? secret : null };
}

async function lockSink(tx: Tx, tenantId: string, sinkId: string): Promise<LogSink> {
  const [row] = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM log_sinks WHERE id = ${sinkId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (!row) throw notFound();
  return tx.logSink.findUniqueOrThrow({ where: { id: sinkId } });
}

/** A tenant admin edits a sink (not its kind). A rotated webhook secret is returned, once. */
export async function updateSink(caller: Caller, input: UpdateSinkInput): Promise<SinkSecretOnce> {
  const data = parse(updateSinkSchema(sinkPolicy()), input);
  const settings = settingsOf(data);
  const newSecret = data.kind === "webhook" ? (data.rotateSecret ? newWebhookSecret() : null) : data.kind === "splunk_hec" ? (data.token ?? null) : null;
  try {
    await runAudited(async (tx) => {
      const action = AUDIT_ACTIONS.sinkUpdated;
      const standing = await requireTenantRole(tx, caller, data.tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: data.sinkId } });
      const sink = await lockSink(tx, data.tenantId, data.sinkId);
      if (sink.kind !== data.kind) {
        throw new AppError("bad_request", "A sink's kind cannot change: add a new sink instead.", { kind: ["Cannot change."] });
      }
      await tx.logSink.update({
        where: { id: sink.id },
        data: {
          name: data.name,
          settings,
          ...(newSecret !== null ? { secretCiphertext: new Uint8Array(encryptSinkSecret(sink.id, newSecret)) } : {}),
          filterActions: data.filter.actions,
          filterOutcomes: data.filter.outcomes.map((o) => OUTCOME_DB[o]),
          updatedById: caller.userId,
          updatedAt: new Date(),
        },
      });
      await audit(tx, caller, standing, data.tenantId, action, sink.id, {
        ...detailsOf(data.name, data.kind, settings, data.filter),
        secretChanged: newSecret !== null,
      });
    });
  } catch (error) {
    conflictOnName(error);
  }
  return { sinkId: data.sinkId, secret: data.kind === "webhook" ? newSecret : null };
}

/** Pauses or resumes a sink. Paused, nothing is sent; resumed, it catches up from where it stopped. */
export async function setSinkEnabled(caller: Caller, input: { tenantId: string; sinkId: string; enabled: boolean }): Promise<void> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  if (typeof input.enabled !== "boolean") throw new AppError("bad_request", "Say whether the sink is enabled.");
  await runAudited(async (tx) => {
    const action = AUDIT_ACTIONS.sinkUpdated;
    const standing = await requireTenantRole(tx, caller, tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: sinkId } });
    const sink = await lockSink(tx, tenantId, sinkId);
    if (sink.enabled === input.enabled) return;
    await tx.logSink.update({ where: { id: sink.id }, data: { enabled: input.enabled, updatedById: caller.userId, updatedAt: new Date() } });
    await audit(tx, caller, standing, tenantId, action, sink.id, { name: sink.name, kind: sink.kind, enabled: input.enabled });
  });
}

/** Deletes a sink and its undelivered batches (they are not sent). */
export async function deleteSink(caller: Caller, input: { tenantId: string; sinkId: string }): Promise<void> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  await runAudited(async (tx) => {
    const action = AUDIT_ACTIONS.sinkDeleted;
    const standing = await requireTenantRole(tx, caller, tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: sinkId } });
    const sink = await lockSink(tx, tenantId, sinkId);
    const [pending] = await tx.$queryRaw<Array<{ events: bigint }>>`
      SELECT coalesce(sum(cardinality(seqs)), 0)::bigint AS events FROM sink_deliveries WHERE sink_id = ${sink.id}::uuid`;
    await tx.logSink.delete({ where: { id: sink.id } });
    await audit(tx, caller, standing, tenantId, action, sink.id, {
      name: sink.name,
      kind: sink.kind,
      destination: destinationOf(sink.kind, sink.settings as StoredSettings),
      undeliveredEvents: Number(pending?.events ?? 0n),
    });
  });
}

/** Puts a sink's failed batches back in the queue, due now; they go first (lowest seqs). */
export async function retryFailedDeliveries(caller: Caller, input: { tenantId: string; sinkId: string }): Promise<{ batches: number; events: number }> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  return runAudited(async (tx) => {
    const action = AUDIT_ACTIONS.sinkRetried;
    const standing = await requireTenantRole(tx, caller, tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: sinkId } });
    const sink = await lockSink(tx, tenantId, sinkId);
    const requeued = await tx.$queryRaw<Array<{ n: number }>>`
      UPDATE sink_deliveries
         SET status = 'pending', attempts = 0, next_attempt_at = now(), first_attempt_at = NULL, failed_at = NULL
       WHERE sink_id = ${sink.id}::uuid AND status = 'failed'
       RETURNING cardinality(seqs) AS n`;
    const events = requeued.reduce((sum, r) => sum + r.n, 0);
    // A fresh start for the status: the retried batches decide it again.
    await tx.logSink.update({ where: { id: sink.id }, data: { consecutiveFailures: 0 } });
    await audit(tx, caller, standing, tenantId, action, sink.id, { name: sink.name, batches: requeued.length, events });
    return { batches: requeued.length, events };
  });
}

/** The synthetic event a test sends: marked as a test, with no place in any chain (seq 0, zero hashes). */
function testEvent(tenantId: string, sinkId: string, caller: Caller, standing: Standing): SinkEvent {
  const actor = actorOf(caller, standing);
  return {
    id: `test:${randomUUID()}`,
    chain: tenantId,
    seq: "0",
    occurredAt: new Date().toISOString(),
    tenantId,
    actorType: actor.type,
    actorId: actor.id,
    actorLabel: actor.label,
    action: AUDIT_ACTIONS.sinkTested,
    targetType: TARGET_TYPE,
    targetId: sinkId,
    outcome: "success",
    sourceIp: caller.request.sourceIp,
    userAgent: caller.request.userAgent,
    requestId: caller.request.requestId,
    details: { test: true, message: "A test event from Custody: this sink is reachable. It is not part of the audit trail." },
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
  };
}

/**
 * Sends a synthetic event to the sink now, through the same transport and SSRF guard as the
 * outbox, and says what happened. The event is not in the trail; the test is (`sink.tested`,
 * with its outcome and the sanitised error), and so it reaches the sink's next batch too.
 */
export async function sendTestEvent(caller: Caller, input: { tenantId: string; sinkId: string }, transport?: SinkTransport): Promise<TestResult> {
  const { tenantId, sinkId } = parse(sinkActionSchema, input);
  const action = AUDIT_ACTIONS.sinkTested;
  const { sink, standing } = await runAudited(async (tx) => {
    const standing = await requireTenantRole(tx, caller, tenantId, ["admin"], { action, target: { type: TARGET_TYPE, id: sinkId } });
    const sink = await tx.logSink.findFirst({ where: { id: sinkId, tenantId } });
    if (!sink) throw notFound();
    return { sink, standing };
  });
  const send = transport ?? (await import("./transports")).sendBatch;
  const started = Date.now();
  let secret: string | null = null;
  let result: TestResult;
  try {
    const built = sinkConfigOf(sink);
    secret = built.secret;
    await send(built.config, [testEvent(tenantId, sinkId, caller, standing)], {
      allowPrivateTargets: sinkPolicy().allowPrivateTargets,
      allowHttp: sinkPolicy().allowHttp,
      timeoutMs: 10_000,
      signal: AbortSignal.timeout(10_000),
    });
    result = { ok: true, message: "The receiver accepted the test event.", ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof SinkDeliveryError)) log.warn({ sinkId, ...errorFields(error) }, "sink test failed");
    result = { ok: false, message: sanitizeDeliveryError(error, secret), ms: Date.now() - started };
  }
  await recordAuditEvent({
    tenantId,
    actor: actorOf(caller, standing),
    action,
    target: { type: TARGET_TYPE, id: sinkId },
    outcome: result.ok ? "success" : "failure",
    request: caller.request,
    details: { name: sink.name, kind: sink.kind, result: result.message, ms: result.ms },
  });
  return result;
}
