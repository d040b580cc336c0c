import "server-only";
import { exportRecordOf } from "@/lib/audit/export/export-format";
import { getDb, Prisma } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import { errorFields, log } from "@/lib/log";
import { loadSinkConfig, storedSinkConfig } from "./config";
import type { SinkKindRegistry } from "./kinds";
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
//     aside) can be claimed, and only while none of the sink's batches is in flight;
//   - a claim's work never outlasts its lease: each request's timeout ends before the lease
//     does, and the lease is renewed (token-checked) before each further request of the claim
//     (the 413 halving), so another worker takes a batch over only from a worker that stopped.
//
// Fair between sinks and tenants: the due batch of the sink claimed longest ago goes first
// (log_sinks.last_claimed_at, set by the claim), so every sink with due work gets a turn before
// any gets a second, however old one sink's backlog is; and one process gives at most half its
// lanes to one tenant, so a tenant's slow or hanging receivers cannot hold every lane.
//
// A failed attempt is retried with exponential backoff and full jitter (a random delay between
// 0 and min(cap, base·2^(attempts−1))). It is marked `failed` when the transport says retrying
// cannot help (SinkDeliveryError.retryable false) or when the batch has been retried for longer
// than the maximum age. A failed batch is parked, not blocking: the sink's later batches go on,
// so one poisoned batch or a long outage does not stop the stream; the sink shows as failing
// and "retry failed deliveries" puts the parked batches back, where they go first again (they
// have the lowest seqs). Receivers order and deduplicate by each event's id (`<chain>:<seq>`).
// An event the receiver refuses as too large (413) even on its own is split off into a failed
// batch of its own, so it cannot hold back the rest of its batch.
//
// Delivered batches are deleted at once; sink_delivery_stats keeps per-minute counts for the
// delivery rate.

export type DeliverOptions = {
  transport: SinkTransport;
  /** The sink kinds whose stored settings the transport's configuration is built from (default: production's). */
  kinds?: SinkKindRegistry;
  /** Whether receivers on private, loopback and link-local addresses may be reached (the SSRF guard). */
  allowPrivateTargets: boolean;
  /** Whether webhook and HEC URLs may be plain http:// (default: as allowPrivateTargets). */
  allowHttp?: boolean;
  /** A batch still failing this long after its first attempt is marked failed. */
  maxAgeMs: number;
  /** Stop claiming new batches after this long (batches in flight finish). */
  budgetMs: number;
  signal?: AbortSignal;
  /** Batches of different sinks sent at once by this process (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Of those, at most this many for one tenant (default: half the lanes, at least 1). */
  maxLanesPerTenant?: number;
  /** How long a claim holds before another worker may take the batch over. */
  leaseMs?: number;
  /** Connect plus send, per request; cut shorter so that it ends before the claim's lease. */
  timeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
  /** A batch larger than this (as JSON) is sent in parts, in order; a single larger event goes alone. */
  maxBatchBytes?: number;
  /** For tests: the jitter's source of randomness, in [0, 1). */
  random?: () => number;
};

export const DEFAULT_LEASE_MS = 60_000;
/** Batches (of different sinks) one process sends at once. */
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 10 * 60_000 };
/** Well under common request-body limits (1 MiB for many HTTP receivers). */
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
const MAX_ERROR_LENGTH = 500;

export type Claim = {
  id: bigint;
  sinkId: string;
  tenantId: string;
  seqs: bigint[];
  attempts: number;
  firstAttemptAt: Date;
  token: string;
  leaseMs: number;
  /** Local clock (ms) before the claim's transaction began: its lease ends no earlier than this plus leaseMs. */
  claimedAt: number;
  /** The sink as the claim read it (else it is read when sending). */
  sink?: ClaimedSink;
};

/** How long before its lease ends a claim stops sending: room for recording the result. */
export function leaseMarginMs(leaseMs: number): number {
  return Math.min(5_000, Math.floor(leaseMs / 4));
}

/** A claimed batch's sink, read by the claim itself: what its transport's configuration is built from. */
export type ClaimedSink = { id: string; kind: string; settings: unknown; secretCiphertext: Uint8Array | null };

/**
 * Claims up to `limit` due batches, each of a different sink, in one statement: the due batch
 * of each sink whose last claim is oldest first, at most `perTenant` lanes per tenant counting
 * the lanes `busy` already holds (tenant id → lanes in use). Empty when none is due.
 */
export async function claimDeliveries(
  limit: number,
  leaseMs = DEFAULT_LEASE_MS,
  busy: ReadonlyMap<string, number> = new Map(),
  perTenant = Number.MAX_SAFE_INTEGER,
): Promise<Claim[]> {
  if (limit <= 0) return [];
  // Taken before the database's now(), so a lease measured from it on the local clock ends no later than the real one.
  const claimedAt = Date.now();
  const tenants = [...busy.keys()];
  const used = tenants.map((tenant) => busy.get(tenant)!);
  const cap = Math.min(perTenant, 1_000_000);
  // The lock re-checks each picked row (READ COMMITTED re-reads a row that changed since the
  // snapshot and tests the WHERE again), so a batch another worker claimed or deleted meanwhile is
  // skipped, and a batch locked by another claim is skipped rather than waited for.
  const rows = await getDb().$queryRaw<
    Array<{ id: bigint; sink_id: string; tenant_id: string; seqs: bigint[]; attempts: number; first_attempt_at: Date; claim_token: string; kind: string; settings: unknown; secret_ciphertext: Uint8Array | null }>
  >`
    WITH lanes AS (
      SELECT t.tenant_id, t.used FROM unnest(${tenants}::uuid[], ${used}::int[]) AS t(tenant_id, used)
    ),
    candidate AS (
      SELECT d.id, s.tenant_id, s.last_claimed_at, d.next_attempt_at,
             row_number() OVER (PARTITION BY s.tenant_id ORDER BY s.last_claimed_at NULLS FIRST, d.next_attempt_at, d.id) AS turn
        FROM sink_deliveries d JOIN log_sinks s ON s.id = d.sink_id
       WHERE s.enabled
         AND ((d.status = 'pending' AND d.next_attempt_at <= now()) OR (d.status = 'delivering' AND d.lease_until < now()))
         -- The sink's oldest batch still to deliver (parked failures aside) ...
         AND NOT EXISTS (SELECT 1 FROM sink_deliveries e
                          WHERE e.sink_id = d.sink_id AND e.status <> 'failed' AND e.first_seq < d.first_seq)
         -- ... and none of the sink's batches in flight.
         AND NOT EXISTS (SELECT 1 FROM sink_deliveries f
                          WHERE f.sink_id = d.sink_id AND f.id <> d.id AND f.status = 'delivering' AND f.lease_until >= now())
    ),
    picked AS (
      -- Fair: the sinks claimed longest ago (or never) first; a tenant's lanes capped.
      SELECT c.id FROM candidate c LEFT JOIN lanes l ON l.tenant_id = c.tenant_id
       WHERE c.turn <= ${cap} - coalesce(l.used, 0)
       ORDER BY c.last_claimed_at NULLS FIRST, c.next_attempt_at, c.id
       LIMIT ${limit}
    ),
    locked AS (
      SELECT d.id FROM sink_deliveries d
       WHERE d.id IN (SELECT id FROM picked)
         AND ((d.status = 'pending' AND d.next_attempt_at <= now()) OR (d.status = 'delivering' AND d.lease_until < now()))
       FOR UPDATE SKIP LOCKED
    ),
    claimed AS (
      UPDATE sink_deliveries d
         SET status = 'delivering', claim_token = gen_random_uuid(), lease_until = now() + ${leaseMs} * interval '1 millisecond',
             first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
        FROM locked WHERE d.id = locked.id
      RETURNING d.id, d.sink_id, d.seqs, d.attempts, d.first_attempt_at, d.claim_token
    ),
    turned AS (
      -- Distinct per sink even within one statement, so the next claim's order is exact.
      UPDATE log_sinks s SET last_claimed_at = clock_timestamp() FROM claimed WHERE s.id = claimed.sink_id
    )
    SELECT c.id, c.sink_id::text, s.tenant_id::text, c.seqs, c.attempts, c.first_attempt_at, c.claim_token::text,
           s.kind::text, s.settings, s.secret_ciphertext
      FROM claimed c JOIN log_sinks s ON s.id = c.sink_id
     ORDER BY c.id`;
  return rows.map((row) => ({
    id: row.id,
    sinkId: row.sink_id,
    tenantId: row.tenant_id,
    seqs: row.seqs,
    attempts: row.attempts,
    firstAttemptAt: row.first_attempt_at,
    token: row.claim_token,
    leaseMs,
    claimedAt,
    sink: { id: row.sink_id, kind: row.kind, settings: row.settings, secretCiphertext: row.secret_ciphertext },
  }));
}

/**
 * Claims the due batch of the sink whose last claim is oldest, among tenants not in
 * `busyTenants` (at this process's lane cap); null when none is due.
 */
export async function claimNextDelivery(leaseMs = DEFAULT_LEASE_MS, busyTenants: readonly string[] = []): Promise<Claim | null> {
  const [claim] = await claimDeliveries(1, leaseMs, new Map(busyTenants.map((tenant) => [tenant, 1])), 1);
  return claim ?? null;
}

/** Renews the claim's lease before a further request; the new local deadline, or null when the claim was lost (or the batch deleted). */
async function renewLease(claim: Claim): Promise<number | null> {
  const renewedAt = Date.now();
  const renewed = await getDb().$executeRaw`
    UPDATE sink_deliveries SET lease_until = now() + ${claim.leaseMs} * interval '1 millisecond'
     WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`;
  return renewed === 0 ? null : renewedAt + claim.leaseMs - leaseMarginMs(claim.leaseMs);
}

/** An audit event as every sink receives it. */
export function toSinkEvent(event: AuditEvent): SinkEvent {
  return { id: `${event.chain}:${event.seq}`, ...exportRecordOf(event) };
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

/** One statement: the batch deleted (or its unsent rest left due), the sink's counters and the minute's rate, only while the claim holds. */
async function recordSuccess(claim: Claim, delivered: number, skipped: number, rest: bigint[] = []): Promise<void> {
  const counters = Prisma.sql`
    sink AS (
      UPDATE log_sinks
         SET last_success_at = now(), consecutive_failures = 0, delivered_events = delivered_events + ${delivered},
             skipped_events = skipped_events + ${skipped}, skipped_at = CASE WHEN ${skipped} > 0 THEN now() ELSE skipped_at END
       WHERE id = ${claim.sinkId}::uuid AND EXISTS (SELECT 1 FROM done)
    ),
    stats AS (
      INSERT INTO sink_delivery_stats AS t (sink_id, minute, events, batches)
      SELECT ${claim.sinkId}::uuid, date_trunc('minute', now()), ${delivered}, 1 FROM done WHERE ${delivered} > 0
      ON CONFLICT (sink_id, minute) DO UPDATE SET events = t.events + EXCLUDED.events, batches = t.batches + 1
    )`;
  // Lost the claim (lease expired and another worker took over): nothing matches, and that worker records the result.
  if (rest.length === 0) {
    await getDb().$executeRaw`
      WITH done AS (DELETE FROM sink_deliveries WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid RETURNING id),
      ${counters}
      SELECT 1`;
  } else {
    await getDb().$executeRaw`
      WITH done AS (
        UPDATE sink_deliveries
           SET seqs = ${rest}::bigint[], first_seq = ${rest[0]!}, status = 'pending', attempts = 0, next_attempt_at = now(),
               first_attempt_at = NULL, claim_token = NULL, lease_until = NULL, last_error = NULL
         WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid
        RETURNING id
      ),
      ${counters}
      SELECT 1`;
  }
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

/**
 * Sets aside one event the receiver refuses as too large even alone: it becomes a failed batch
 * of its own, and the claimed row keeps the rest of the batch, due now. One transaction, only
 * while the claim holds. The row's first_seq moves past the event before the event's own row
 * takes that seq, so (sink_id, first_seq) stays unique. False when the claim was lost.
 */
async function setAsideOversized(claim: Claim, oversized: bigint, message: string): Promise<boolean> {
  const rest = claim.seqs.filter((seq) => seq > oversized);
  // Seqs before it in this batch were pruned by retention (the halving always keeps the front).
  const skipped = claim.seqs.filter((seq) => seq < oversized).length;
  const attempts = claim.attempts + 1;
  return getDb().$transaction(async (tx) => {
    const kept =
      rest.length === 0
        ? await tx.$executeRaw`
            UPDATE sink_deliveries
               SET seqs = ${[oversized]}::bigint[], first_seq = ${oversized}, last_seq = ${oversized}, status = 'failed', attempts = ${attempts},
                   last_error = ${message}, failed_at = now(), claim_token = NULL, lease_until = NULL
             WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`
        : await tx.$executeRaw`
            UPDATE sink_deliveries
               SET seqs = ${rest}::bigint[], first_seq = ${rest[0]!}, status = 'pending', attempts = 0, next_attempt_at = now(),
                   first_attempt_at = NULL, claim_token = NULL, lease_until = NULL, last_error = NULL
             WHERE id = ${claim.id} AND claim_token = ${claim.token}::uuid`;
    if (kept === 0) return false;
    if (rest.length > 0) {
      await tx.$executeRaw`
        INSERT INTO sink_deliveries (sink_id, first_seq, last_seq, seqs, status, attempts, first_attempt_at, last_attempt_at, last_error, failed_at)
        VALUES (${claim.sinkId}::uuid, ${oversized}, ${oversized}, ${[oversized]}::bigint[], 'failed', ${attempts}, ${claim.firstAttemptAt}, now(), ${message}, now())`;
    }
    await tx.$executeRaw`
      UPDATE log_sinks
         SET consecutive_failures = consecutive_failures + 1, last_error = ${message}, last_error_at = now(),
             skipped_events = skipped_events + ${skipped}, skipped_at = CASE WHEN ${skipped} > 0 THEN now() ELSE skipped_at END
       WHERE id = ${claim.sinkId}::uuid`;
    return true;
  });
}

export type DeliveryResult = { outcome: "delivered" | "retrying" | "failed" | "lost"; events: number; error?: string };

/** Sends one claimed batch and records what happened. */
export async function deliverClaim(claim: Claim, options: DeliverOptions): Promise<DeliveryResult> {
  let secret: string | null = null;
  try {
    const sink = claim.sink ? storedSinkConfig(claim.sink, options.kinds) : await loadSinkConfig(claim.sinkId, options.kinds);
    if (!sink) return { outcome: "lost", events: 0 }; // deleted meanwhile: its deliveries went with it
    secret = sink.secret;
    const rows = await getDb().auditEvent.findMany({
      where: { chain: claim.tenantId, seq: { in: claim.seqs } },
      orderBy: { seq: "asc" },
    });
    // Retention may have pruned some since they were enqueued: send what is left, count the rest.
    // A batch too large for one request is sent in order, part by part: this claim sends the
    // first part, and the rest of the batch stays queued (due at once) under the same row.
    const events = rows.map(toSinkEvent);
    let part = leadingPart(events, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    // Every request ends before the lease does (minus a margin to record the result).
    let deadline = claim.claimedAt + claim.leaseMs - leaseMarginMs(claim.leaseMs);
    // A receiver that refuses the batch for its size (413) gets the first half, then a quarter…
    // down to one event; an event too large on its own is set aside in a failed batch of its
    // own, and the rest of the batch goes on.
    for (let request = 0; part.length > 0; request++) {
      if (request > 0) {
        const renewed = await renewLease(claim);
        if (renewed === null) return { outcome: "lost", events: 0 }; // taken over or deleted: not ours to send
        deadline = renewed;
      }
      const timeoutMs = Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, deadline - Date.now());
      if (timeoutMs <= 0) throw new SinkDeliveryError("The delivery ran out of time before it could be sent; it will be retried.", true);
      const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      try {
        await options.transport(sink.config, part, { signal, timeoutMs, allowPrivateTargets: options.allowPrivateTargets, allowHttp: options.allowHttp });
        break;
      } catch (error) {
        if (!(error instanceof SinkDeliveryError && error.tooLarge)) throw error;
        if (part.length === 1) {
          const event = part[0]!;
          const message = sanitizeDeliveryError(
            new SinkDeliveryError(
              `Event ${event.id} is too large for the receiver on its own, so it was set aside as a failed delivery; the rest of its batch goes on. ${error.message}`,
              false,
            ),
            secret,
          );
          const setAside = await setAsideOversized(claim, BigInt(event.seq), message);
          return setAside ? { outcome: "failed", events: 1, error: message } : { outcome: "lost", events: 0 };
        }
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

/**
 * Delivers due batches, several sinks at a time, until none is due or the budget is spent. Free
 * lanes are filled by one claim of as many batches (of as many sinks) as there are free lanes;
 * at most `maxLanesPerTenant` lanes serve one tenant at once. `more`: the budget ran out, or the
 * signal came, with batches perhaps still due.
 */
export async function deliverDue(options: DeliverOptions): Promise<{ delivered: number; retrying: number; failed: number; more: boolean }> {
  const started = Date.now();
  const totals = { delivered: 0, retrying: 0, failed: 0, more: false };
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const perTenant = options.maxLanesPerTenant ?? Math.max(1, Math.ceil(concurrency / 2));
  const lanesOf = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  // A lane's unexpected error (the database gone while recording) stops claiming and is thrown once every lane has settled.
  let failure: { error: unknown } | null = null;
  const send = (claim: Claim) => {
    lanesOf.set(claim.tenantId, (lanesOf.get(claim.tenantId) ?? 0) + 1);
    const lane: Promise<void> = deliverClaim(claim, options)
      .then((result) => {
        if (result.outcome === "delivered") totals.delivered += result.events;
        else if (result.outcome === "retrying") totals.retrying += 1;
        else if (result.outcome === "failed") totals.failed += 1;
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        const lanes = lanesOf.get(claim.tenantId)! - 1;
        if (lanes === 0) lanesOf.delete(claim.tenantId);
        else lanesOf.set(claim.tenantId, lanes);
        inFlight.delete(lane);
      });
    inFlight.add(lane);
  };
  try {
    while (!failure) {
      if (options.signal?.aborted || Date.now() - started >= options.budgetMs) {
        totals.more = true;
        break;
      }
      const free = concurrency - inFlight.size;
      const claims = free > 0 ? await claimDeliveries(free, options.leaseMs, lanesOf, perTenant) : [];
      for (const claim of claims) send(claim);
      if (claims.length > 0 && inFlight.size < concurrency) continue;
      // All lanes busy, or nothing claimable now: wait for a lane to finish (its sink's next
      // batch may then be due), or stop when none is in flight.
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
  } finally {
    await Promise.allSettled([...inFlight]);
  }
  if (failure) throw (failure as { error: unknown }).error;
  return totals;
}

let lastStatsPrune = 0;

/** Per-minute counts older than a day are not shown anywhere: delete them, at most once a minute per process. */
export async function pruneDeliveryStats(): Promise<void> {
  if (Date.now() - lastStatsPrune < 60_000) return;
  lastStatsPrune = Date.now();
  await getDb().$executeRaw`DELETE FROM sink_delivery_stats WHERE minute < now() - interval '1 day'`;
}
