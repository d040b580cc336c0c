import "server-only";
import type pg from "pg";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { type AuditInput, eventFieldsOf } from "./append";
import { eventTail } from "./chain";
import { byColumn, TAIL_FIELDS } from "./event-fields";

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

type Pending = { event: HotAuditEvent; resolve(result: CommitResult): void; reject(error: unknown): void };

export class AuditCommitError extends Error {
  /** @param unavailable the database could not be reached (a restart, a failover), rather than refusing the event */
  constructor(readonly unavailable = false) {
    super(unavailable ? "The audit trail's database is unreachable." : "The audit trail could not be written.");
    this.name = "AuditCommitError";
  }
}

export type GroupCommitStats = { commits: number; events: number; largestBatch: number };

export class AuditGroupCommitter {
  private queue: Pending[] = [];
  /** Batches being committed: at most two, the second queued behind the first on the chain heads inside PostgreSQL. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Whether the newest batch is still being sent (then no other may start). */
  private sending = false;
  private scheduled = false;
  private closed = false;
  readonly stats: GroupCommitStats = { commits: 0, events: 0, largestBatch: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { maxBatch?: number; onError?: (error: unknown) => void } = {},
  ) {}

  /** Resolves once the event is committed; rejects with AuditCommitError if it could not be. */
  append(event: HotAuditEvent): Promise<CommitResult> {
    if (this.closed) return Promise.reject(new AuditCommitError());
    return new Promise<CommitResult>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  /** Waits for queued events to commit, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0 || this.queue.length > 0 || this.scheduled) {
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
    if (this.scheduled || this.queue.length === 0 || this.sending || this.inFlight.size >= 2) return;
    this.scheduled = true;
    // Let the requests that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.sending || this.inFlight.size >= 2) return;
      const batch = this.queue.splice(0, this.options.maxBatch ?? 2000);
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

  private async run(batch: Pending[], sent: () => void): Promise<void> {
    try {
      const results = await this.commit(batch.map((p) => p.event), sent);
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
        const results = await this.commit(half.map((p) => p.event));
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
   * sent as one message. The caller's part of each event's canonical JSON is computed here
   * (eventTail), twice for a use that a revocation would turn into a refusal.
   */
  private async commit(events: HotAuditEvent[], sent?: () => void): Promise<CommitResult[]> {
    const rows = events.map((event, ord) => {
      const fields = eventFieldsOf(event);
      const refused = event.requiresAccess ? { ...fields, outcome: "denied", details: { ...event.details, code: "access_revoked" } } : null;
      return {
        ord,
        ...byColumn(TAIL_FIELDS, fields),
        details_refused: refused?.details ?? null,
        tail: eventTail(fields),
        tail_refused: refused ? eventTail(refused) : null,
        requires_access: event.requiresAccess,
        credential_id: event.credentialId ?? null,
      };
    });

    const credentials = [...new Set(events.flatMap((event) => (event.credentialId ? [event.credentialId] : [])))];

    const client = await this.pool.connect();
    let broken = false;
    try {
      // The next batch may start as soon as this one is sent: it queues on the chain heads
      // inside PostgreSQL behind this one.
      const query = client.query(`BEGIN; SELECT * FROM custody_append_audit_batch(${literal(rows)}, ${uuidArray(credentials)}); COMMIT;`);
      sent?.();
      const [, appended] = (await query) as unknown as [pg.QueryResult, pg.QueryResult<AppendedRow>];
      this.stats.commits++;
      this.stats.events += events.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, events.length);
      const results: CommitResult[] = new Array(events.length);
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

type AppendedRow = { ord: number; event_id: string | null; event_seq: string | null; refused: boolean; credential_revoked: boolean };

function resultOf(row: AppendedRow): CommitResult {
  if (row.credential_revoked) return { id: null, seq: null, revoked: false, credentialRevoked: true };
  return { id: BigInt(row.event_id!), seq: BigInt(row.event_seq!), revoked: row.refused, credentialRevoked: false };
}

/**
 * A JSON document as a SQL string literal. The pool's connections run with
 * standard_conforming_strings on (lib/db/pool.ts), so doubling single quotes is the whole
 * escaping; JSON text cannot contain a NUL byte.
 */
function literal(value: unknown): string {
  return `'${JSON.stringify(value).replace(/'/g, "''")}'::json`;
}

/** Ids as a SQL uuid[] literal (PostgreSQL refuses anything that is not a UUID; quotes are doubled all the same). */
function uuidArray(ids: string[]): string {
  return `'{${ids.join(",").replace(/'/g, "''")}}'::uuid[]`;
}
