import "server-only";
import { randomUUID } from "node:crypto";
import { chainedFieldsOf } from "@/lib/audit/stored";
import { getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import { errorFields, log } from "@/lib/log";
import { loadSinkConfig } from "./config";
import { type SinkEvent, SinkDeliveryError, type SinkTransport } from "./types";

// The outbox's deliverer. A delivery (one batch of one sink) is claimed in a short transaction
// with FOR UPDATE SKIP LOCKED and marked `delivering` with a lease and a fresh claim token; the
// transport is called outside any transaction; the result is recorded only if the claim token
// still matches. So:
//   - two workers (two app instances) never send one batch at once: a claimed batch is not due
//     again until its lease expires;
//   - a worker that dies mid-send (kill -9) leaves its batch `delivering`; once the lease
//     expires another worker claims it and sends it again: at least once;
//   - in order per sink: only a sink's oldest undelivered batch (lowest first_seq, failed ones
//     aside) can be claimed, and only while none of the sink's batches is in flight.
//
// A failed attempt is retried with exponential backoff and full jitter (a random delay between
// 0 and min(cap, base·2^(attempts−1))). It is marked `failed` when the transport says retrying
// cannot help (SinkDeliveryError.retryable false) or when the batch has been retried for longer
// than the maximum age. A failed batch is parked, not blocking: the sink's later batches go on,
// so one poisoned batch or a long outage does not stop the stream; the sink shows as failing
// and "retry failed deliveries" puts the parked batches back, where they go first again (they
// have the lowest seqs). Receivers order and deduplicate by each event's id (`<chain>:<seq>`).
//
// Delivered batches are deleted at once; sink_delivery_stats keeps per-minute counts for the
// delivery rate.

export type DeliverOptions = {
  transport: SinkTransport;
  /** Whether receivers on private, loopback and link-local addresses may be reached (the SSRF guard). */
  allowPrivateTargets: boolean;
  /** Whether webhook and HEC URLs may be plain http:// (default: as allowPrivateTargets). */
  allowHttp?: boolean;
  /** A batch still failing this long after its first attempt is marked failed. */
  maxAgeMs: number;
  /** Stop claiming new batches after this long (batches in flight finish). */
  budgetMs: number;
  signal?: AbortSignal;
  /** Batches of different sinks sent at once by this process. */
  concurrency?: number;
  /** How long a claim holds before another worker may take the batch over. */
  leaseMs?: number;
  /** Connect plus send, per batch; must be well under the lease. */
  timeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
  /** A batch larger than this (as JSON) is sent in parts, in order; a single larger event goes alone. */
  maxBatchBytes?: number;
  /** For tests: the jitter's source of randomness, in [0, 1). */
  random?: () => number;
};

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 10 * 60_000 };
/** Well under common request-body limits (1 MiB for many HTTP receivers). */
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
const MAX_ERROR_LENGTH = 500;

export type Claim = { id: bigint; sinkId: string; seqs: bigint[]; attempts: number; firstAttemptAt: Date; token: string };

/** Claims the oldest due batch of any sink whose turn it is; null when none is due. */
export async function claimNextDelivery(leaseMs = DEFAULT_LEASE_MS): Promise<Claim | null> {
  return getDb().$transaction(async (tx) => {
    const [due] = await tx.$queryRaw<Array<{ id: bigint }>>`
      SELECT d.id FROM sink_deliveries d JOIN log_sinks s ON s.id = d.sink_id
       WHERE s.enabled
         AND ((d.status = 'pending' AND d.next_attempt_at <= now()) OR (d.status = 'delivering' AND d.lease_until < now()))
         -- The sink's oldest batch still to deliver (parked failures aside) ...
         AND NOT EXISTS (SELECT 1 FROM sink_deliveries e
                          WHERE e.sink_id = d.sink_id AND e.status <> 'failed' AND e.first_seq < d.first_seq)
         -- ... and none of the sink's batches in flight.
         AND NOT EXISTS (SELECT 1 FROM sink_deliveries f
                          WHERE f.sink_id = d.sink_id AND f.id <> d.id AND f.status = 'delivering' AND f.lease_until >= now())
       ORDER BY d.next_attempt_at, d.id
       LIMIT 1
       FOR UPDATE OF d SKIP LOCKED`;
    if (!due) return null;
    const token = randomUUID();
    const [claimed] = await tx.$queryRaw<Array<{ sink_id: string; seqs: bigint[]; attempts: number; first_attempt_at: Date }>>`
      UPDATE sink_deliveries
         SET status = 'delivering', claim_token = ${token}::uuid, lease_until = now() + ${leaseMs} * interval '1 millisecond',
             first_attempt_at = coalesce(first_attempt_at, now()), last_attempt_at = now()
       WHERE id = ${due.id}
       RETURNING sink_id::text, seqs, attempts, first_attempt_at`;
    if (!claimed) return null;
    return { id: due.id, sinkId: claimed.sink_id, seqs: claimed.seqs, attempts: claimed.attempts, firstAttemptAt: claimed.first_attempt_at, token };
  });
}

/** An audit event as every sink receives it. */
export function toSinkEvent(event: AuditEvent): SinkEvent {
  const f = chainedFieldsOf(event);
  return {
    id: `${f.chain}:${f.seq}`,
    chain: f.chain,
    seq: f.seq.toString(),
    occurredAt: f.occurredAt.toISOString(),
    tenantId: f.tenantId,
    actorType: f.actorType,
    actorId: f.actorId,
    actorLabel: f.actorLabel,
    action: f.action,
    targetType: f.targetType,
    targetId: f.targetId,
    outcome: f.outcome,
    sourceIp: f.sourceIp,
    userAgent: f.userAgent,
    requestId: f.requestId,
    details: f.details,
    prevHash: f.prevHash,
    hash: f.hash,
  };
}

/** Words safe to store and show: a transport's own message, else a generic one (the cause is logged). */
export function sanitizeDeliveryError(error: unknown, secret: string | null): string {
  const raw =
    error instanceof SinkDeliveryError || isPermanentConfigError(error)
      ? (error as Error).message
      : "Delivery failed unexpectedly; the details are in Custody's log.";
  // Never let a secret through, whatever a transport put in its message.
  const redacted = secret ? raw.split(secret).join("[redacted]") : raw;
  const clean = redacted.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return clean.length > MAX_ERROR_LENGTH ? `${clean.slice(0, MAX_ERROR_LENGTH - 1)}…` : clean;
}

export function backoffDelayMs(attempts: number, backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.floor(random() * ceiling);
}

/** The longest prefix of `events` within `maxBytes` as JSON; at least one event. */
function leadingPart(events: SinkEvent[], maxBytes: number): SinkEvent[] {
  let bytes = 0;
  let take = 0;
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (take > 0 && bytes + size > maxBytes) break;
    bytes += size;
    take++;
  }
  return events.slice(0, take);
}

async function recordSuccess(claim: Claim, delivered: number, skipped: number, rest: bigint[] = []): Promise<void> {
  await getDb().$transaction(async (tx) => {
    const done =
      rest.length === 0
        ? await tx.$executeRaw`DELETE FROM sink_deliveries WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`
        : await tx.$executeRaw`
            UPDATE sink_deliveries
               SET seqs = ${rest}::bigint[], first_seq = ${rest[0]!}, status = 'pending', attempts = 0, next_attempt_at = now(),
                   first_attempt_at = NULL, claim_token = NULL, lease_until = NULL, last_error = NULL
             WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`;
    // Lost the claim (lease expired and another worker took over): that worker records the result.
    if (done === 0) return;
    await tx.$executeRaw`
      UPDATE log_sinks
         SET last_success_at = now(), consecutive_failures = 0, delivered_events = delivered_events + ${delivered},
             skipped_events = skipped_events + ${skipped}, skipped_at = CASE WHEN ${skipped} > 0 THEN now() ELSE skipped_at END
       WHERE id = ${claim.sinkId}::uuid`;
    if (delivered > 0) {
      await tx.$executeRaw`
        INSERT INTO sink_delivery_stats AS t (sink_id, minute, events, batches)
        VALUES (${claim.sinkId}::uuid, date_trunc('minute', now()), ${delivered}, 1)
        ON CONFLICT (sink_id, minute) DO UPDATE SET events = t.events + EXCLUDED.events, batches = t.batches + 1`;
    }
  });
}

async function recordFailure(claim: Claim, message: string, retryable: boolean, options: DeliverOptions): Promise<"retrying" | "failed"> {
  const attempts = claim.attempts + 1;
  const tooOld = Date.now() - claim.firstAttemptAt.getTime() >= options.maxAgeMs;
  const failed = !retryable || tooOld;
  const delayMs = backoffDelayMs(attempts, options.backoff, options.random);
  await getDb().$transaction(async (tx) => {
    const updated = failed
      ? await tx.$executeRaw`
          UPDATE sink_deliveries
             SET status = 'failed', attempts = ${attempts}, last_error = ${message}, failed_at = now(), claim_token = NULL, lease_until = NULL
           WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`
      : await tx.$executeRaw`
          UPDATE sink_deliveries
             SET status = 'pending', attempts = ${attempts}, last_error = ${message}, claim_token = NULL, lease_until = NULL,
                 next_attempt_at = now() + ${delayMs} * interval '1 millisecond'
           WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`;
    if (updated === 0) return;
    await tx.$executeRaw`
      UPDATE log_sinks
         SET consecutive_failures = consecutive_failures + 1, last_error = ${message}, last_error_at = now()
       WHERE id = ${claim.sinkId}::uuid`;
  });
  return failed ? "failed" : "retrying";
}

export type DeliveryResult = { outcome: "delivered" | "retrying" | "failed" | "lost"; events: number; error?: string };

/** Sends one claimed batch and records what happened. */
export async function deliverClaim(claim: Claim, options: DeliverOptions): Promise<DeliveryResult> {
  let secret: string | null = null;
  try {
    const sink = await loadSinkConfig(claim.sinkId);
    if (!sink) return { outcome: "lost", events: 0 }; // deleted meanwhile: its deliveries went with it
    secret = sink.secret;
    const rows = await getDb().auditEvent.findMany({
      where: { chain: sink.tenantId, seq: { in: claim.seqs } },
      orderBy: { seq: "asc" },
    });
    // Retention may have pruned some since they were enqueued: send what is left, count the rest.
    // A batch too large for one request is sent in order, part by part: this claim sends the
    // first part, and the rest of the batch stays queued (due at once) under the same row.
    const events = rows.map(toSinkEvent);
    let part = leadingPart(events, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    // A receiver that refuses the batch for its size (413) gets the first half, then a quarter…
    // down to one event; only an event too large on its own fails (and is set aside).
    for (;;) {
      if (part.length === 0) break;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      try {
        await options.transport(sink.config, part, { signal, timeoutMs, allowPrivateTargets: options.allowPrivateTargets, allowHttp: options.allowHttp });
        break;
      } catch (error) {
        if (!(error instanceof SinkDeliveryError && error.tooLarge && part.length > 1)) throw error;
        part = part.slice(0, Math.ceil(part.length / 2));
      }
    }
    const lastSent = part.length > 0 ? BigInt(part[part.length - 1]!.seq) : null;
    const rest = lastSent === null ? [] : claim.seqs.filter((seq) => seq > lastSent);
    const skipped = claim.seqs.length - rest.length - part.length;
    await recordSuccess(claim, part.length, skipped, rest);
    return { outcome: "delivered", events: part.length };
  } catch (error) {
    if (!(error instanceof SinkDeliveryError)) log.warn({ sinkId: claim.sinkId, delivery: claim.id.toString(), ...errorFields(error) }, "sink delivery failed");
    const message = sanitizeDeliveryError(error, secret);
    const retryable = error instanceof SinkDeliveryError ? error.retryable : !isPermanentConfigError(error);
    const outcome = await recordFailure(claim, message, retryable, options);
    return { outcome, events: claim.seqs.length, error: message };
  }
}

// A secret that does not open will not open on the next try either.
function isPermanentConfigError(error: unknown): boolean {
  return error instanceof Error && error.name === "SinkSecretError";
}

/** Delivers due batches, several sinks at a time, until none is due or the budget is spent. */
export async function deliverDue(options: DeliverOptions): Promise<{ delivered: number; retrying: number; failed: number }> {
  const started = Date.now();
  const totals = { delivered: 0, retrying: 0, failed: 0 };
  const lane = async () => {
    while (!options.signal?.aborted && Date.now() - started < options.budgetMs) {
      const claim = await claimNextDelivery(options.leaseMs);
      if (!claim) return;
      const result = await deliverClaim(claim, options);
      if (result.outcome === "delivered") totals.delivered += result.events;
      else if (result.outcome === "retrying") totals.retrying += 1;
      else if (result.outcome === "failed") totals.failed += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, lane));
  return totals;
}

let lastStatsPrune = 0;

/** Per-minute counts older than a day are not shown anywhere: delete them, at most once a minute per process. */
export async function pruneDeliveryStats(): Promise<void> {
  if (Date.now() - lastStatsPrune < 60_000) return;
  lastStatsPrune = Date.now();
  await getDb().$executeRaw`DELETE FROM sink_delivery_stats WHERE minute < now() - interval '1 day'`;
}
