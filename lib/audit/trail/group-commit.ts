import "server-only";
import type pg from "pg";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { type AuditInput, eventFieldsOf } from "./append";
import { eventTail } from "./chain";
import { columnOf, TAIL_FIELDS } from "./event-fields";

// Group commit for the key service's audit events. Every wrap and unwrap must be on the trail
// before its answer leaves (no decrypt without its event), and one transaction per event would
// cap the service at the database's commit rate. So events queue here and one writer commits
// them in batches: each request waits for the commit that carries its event, and a failed
// commit fails every request in it.
//
// A batch is one call of the database function custody_append_audit_batch (migration
// 20261129040000), which hashes the chain itself, so a tenant's chain head is held only while
// the batch is written and flushed, never across a round trip to this process.
//
// The commit is also where revocation is decided, exactly. The batch takes the row locks of its
// chain heads first; a console revocation appends its own event to the same chain inside the
// revoking transaction, so the two serialise there. The batch then reads which of its tenants
// are revoked (a fresh snapshot, taken after the locks): an event that needs access and finds
// the tenant revoked is written as refused and its request answered access_revoked. No success
// can follow a revocation in a tenant's chain, whatever the notification timing.
//
// The same holds for the service credential behind a use (migration 20261203120500): the batch
// reads its credentials under a KEY SHARE row lock before it takes any chain head, and a
// credential's revocation locks that row first, so a use is written only if its credential was
// still active when the batch committed. A use whose credential is revoked is not written at
// all; its request records its own refusal.

/** An event to append; tenantId exactly as the database prints it (lower case), null for the vendor's chain. */
export type HotAuditEvent = AuditInput & {
  /** A successful use of the tenant's key: refused instead if the tenant is revoked at commit. */
  requiresAccess: boolean;
  /**
   * A use made with this service credential: written only if the credential is still active
   * when the batch commits, otherwise not written and answered `credentialRevoked`.
   */
  credentialId?: string;
};

/** A written event (`revoked`: written as refused, the tenant being revoked), or a use not written because its credential is revoked. */
export type CommitResult =
  | { id: bigint; seq: bigint; revoked: boolean; credentialRevoked: false }
  | { id: null; seq: null; revoked: false; credentialRevoked: true };

/**
 * A queued event: its row of the batch append's input, built once when it is queued (also the
 * measure of its share of a batch), and the request waiting for it.
 */
type Pending = { row: string; credentialId: string | null; resolve(result: CommitResult): void; reject(error: unknown): void };

/** How much one batch may carry, and how much of it one tenant (one chain) may take. */
export type GroupCommitLimits = {
  /** Events per batch (default 2,000). */
  maxBatch?: number;
  /** Bytes of input per batch (default 1 MiB); a single larger event still goes, alone with its share. */
  maxBatchBytes?: number;
  /** Bytes one chain may put into one batch (default 128 KiB); its first event always goes. */
  chainShareBytes?: number;
};

export class AuditCommitError extends Error {
  /** @param unavailable the database could not be reached (a restart, a failover), rather than refusing the event */
  constructor(readonly unavailable = false) {
    super(unavailable ? "The audit trail's database is unreachable." : "The audit trail could not be written.");
    this.name = "AuditCommitError";
  }
}

export type GroupCommitStats = { commits: number; events: number; largestBatch: number };

export class AuditGroupCommitter {
  /**
   * Queued events, one queue per chain (tenant), in the order batches visit them: a chain that
   * put events into a batch and still has some moves to the back, so one flooding tenant
   * cannot hold up another's events for more than its bounded share of a batch.
   */
  private readonly queues = new Map<string, Pending[]>();
  private queued = 0;
  /** Batches being committed: at most two, the second queued behind the first on the chain heads inside PostgreSQL. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Whether the newest batch is still being sent (then no other may start). */
  private sending = false;
  private scheduled = false;
  private closed = false;
  private readonly limits: Required<GroupCommitLimits>;
  readonly stats: GroupCommitStats = { commits: 0, events: 0, largestBatch: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: GroupCommitLimits & { onError?: (error: unknown) => void } = {},
  ) {
    this.limits = {
      maxBatch: options.maxBatch ?? 2000,
      maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
      chainShareBytes: options.chainShareBytes ?? 128 * 1024,
    };
  }

  /** Resolves once the event is committed; rejects with AuditCommitError if it could not be. */
  append(event: HotAuditEvent): Promise<CommitResult> {
    if (this.closed) return Promise.reject(new AuditCommitError());
    let row: string;
    try {
      row = rowOf(event);
    } catch (error) {
      this.options.onError?.(error);
      return Promise.reject(new AuditCommitError());
    }
    return new Promise<CommitResult>((resolve, reject) => {
      const chain = event.tenantId ?? "";
      const queue = this.queues.get(chain);
      const pending: Pending = { row, credentialId: event.credentialId ?? null, resolve, reject };
      if (queue) queue.push(pending);
      else this.queues.set(chain, [pending]);
      this.queued++;
      this.schedule();
    });
  }

  /** Waits for queued events to commit, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0 || this.queued > 0 || this.scheduled) {
      await Promise.all(this.inFlight);
      if (this.scheduled) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Starts the next batch as soon as the newest one is sent: its statement then waits inside
   * PostgreSQL and runs the moment the previous batch commits, so a chain head is never idle
   * for a round trip. Two in flight at most.
   */
  private schedule(): void {
    if (this.scheduled || this.queued === 0 || this.sending || this.inFlight.size >= 2) return;
    this.scheduled = true;
    // Let the requests that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queued === 0 || this.sending || this.inFlight.size >= 2) return;
      const batch = this.nextBatch();
      this.sending = true;
      const sent = () => {
        if (!this.sending) return;
        this.sending = false;
        this.schedule();
      };
      const flight: Promise<void> = this.run(batch, sent).finally(() => {
        this.inFlight.delete(flight);
        sent();
        this.schedule();
      });
      this.inFlight.add(flight);
    });
  }

  /**
   * The next batch, fair between chains: the chains are visited in turn, each gives its oldest
   * events up to its share of the batch (at least one), and a chain that still has events
   * afterwards goes to the back of the turn. So an event waits at most for the batches in
   * flight and the shares of the chains ahead of it, never for everything a busy tenant queued.
   * A chain's events are taken in the order they were queued.
   */
  private nextBatch(): Pending[] {
    const { maxBatch, maxBatchBytes, chainShareBytes } = this.limits;
    const batch: Pending[] = [];
    let bytes = 0;
    for (const [chain, queue] of [...this.queues]) {
      if (batch.length >= maxBatch || bytes >= maxBatchBytes) break;
      let share = 0;
      let taken = 0;
      while (taken < queue.length && batch.length < maxBatch) {
        const size = queue[taken]!.row.length;
        if (taken > 0 && (share + size > chainShareBytes || bytes + size > maxBatchBytes)) break;
        batch.push(queue[taken]!);
        share += size;
        bytes += size;
        taken++;
      }
      this.queues.delete(chain);
      if (taken < queue.length) this.queues.set(chain, queue.slice(taken));
    }
    this.queued -= batch.length;
    return batch;
  }

  private async run(batch: Pending[], sent: () => void): Promise<void> {
    try {
      const results = await this.commit(batch, sent);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      this.options.onError?.(error);
      // An outage fails every event alike: splitting the batch would only knock on a closed door
      // log2(n) more times. (If the connection broke during COMMIT the events may have committed
      // after all: then the trail holds a use that was answered 503, never the reverse.)
      if (isDatabaseUnavailable(error)) {
        for (const pending of batch) pending.reject(new AuditCommitError(true));
        return;
      }
      await this.isolate(batch);
    }
  }

  /**
   * One event the database refuses must not fail the others: a failed batch is split in halves
   * and each retried, until the event at fault is alone (log2 of the batch in extra commits).
   */
  private async isolate(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      batch[0]!.reject(new AuditCommitError());
      return;
    }
    for (const half of [batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1)]) {
      try {
        const results = await this.commit(half);
        half.forEach((p, i) => p.resolve(results[i]!));
      } catch (error) {
        this.options.onError?.(error);
        if (isDatabaseUnavailable(error)) {
          for (const pending of half) pending.reject(new AuditCommitError(true));
          continue;
        }
        await this.isolate(half);
      }
    }
  }

  /**
   * One batch in one transaction and one round trip: BEGIN, the database's batch append
   * (custody_append_audit_batch: lock the heads, read revocations, chain and insert), COMMIT,
   * sent as one message. Each event's row was built when it was queued (rowOf).
   */
  private async commit(batch: Pending[], sent?: () => void): Promise<CommitResult[]> {
    // Each row is an SQL-escaped JSON object missing its opening brace and its position.
    const rows = `'[${batch.map((p, ord) => `{"ord":${ord},${p.row}`).join(",")}]'::json`;
    const credentials = [...new Set(batch.flatMap((p) => (p.credentialId ? [p.credentialId] : [])))];

    const client = await this.pool.connect();
    let broken = false;
    try {
      // The next batch may start as soon as this one is sent: it queues on the chain heads
      // inside PostgreSQL behind this one.
      const query = client.query(`BEGIN; SELECT * FROM custody_append_audit_batch(${rows}, ${uuidArray(credentials)}); COMMIT;`);
      sent?.();
      const [, appended] = (await query) as unknown as [pg.QueryResult, pg.QueryResult<AppendedRow>];
      this.stats.commits++;
      this.stats.events += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      const results: CommitResult[] = new Array(batch.length);
      for (const row of appended.rows) results[row.ord] = resultOf(row);
      if (results.some((r) => r === undefined)) throw new Error("the batch append did not return every event");
      return results;
    } catch (error) {
      broken = true;
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }
}

/** The tail fields and their columns in the batch append's input, in hash order. */
const TAIL_COLUMNS = TAIL_FIELDS.map((field) => [field, columnOf(field)] as const);

/**
 * An event's row of the batch append's input (everything but `ord`), as JSON without its
 * opening brace, escaped for an SQL string literal: the pool's connections run with
 * standard_conforming_strings on (lib/db/pool.ts), so doubling single quotes is the whole
 * escaping, and JSON text cannot contain a NUL byte. The caller's part of the canonical JSON
 * is computed here (eventTail), twice for a use that a revocation would turn into a refusal.
 */
function rowOf(event: HotAuditEvent): string {
  const fields = eventFieldsOf(event);
  const refused = event.requiresAccess ? { ...fields, outcome: "denied", details: { ...event.details, code: "access_revoked" } } : null;
  const row: Record<string, unknown> = {};
  for (const [field, column] of TAIL_COLUMNS) row[column] = fields[field];
  Object.assign(row, {
    details_refused: refused?.details ?? null,
    tail: eventTail(fields),
    tail_refused: refused ? eventTail(refused) : null,
    requires_access: event.requiresAccess,
    credential_id: event.credentialId ?? null,
  });
  return JSON.stringify(row).slice(1).replace(/'/g, "''");
}

type AppendedRow = { ord: number; event_id: string | null; event_seq: string | null; refused: boolean; credential_revoked: boolean };

function resultOf(row: AppendedRow): CommitResult {
  if (row.credential_revoked) return { id: null, seq: null, revoked: false, credentialRevoked: true };
  return { id: BigInt(row.event_id!), seq: BigInt(row.event_seq!), revoked: row.refused, credentialRevoked: false };
}

/** Ids as a SQL uuid[] literal (PostgreSQL refuses anything that is not a UUID; quotes are doubled all the same). */
function uuidArray(ids: string[]): string {
  return `'{${ids.join(",").replace(/'/g, "''")}}'::uuid[]`;
}
