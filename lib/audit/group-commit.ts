import "server-only";
import type pg from "pg";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { Actor, AuditDetails } from "./append";
import type { AuditAction } from "./actions";
import { type ChainedFields, GENESIS_HASH, hashEvent } from "./chain";


// Group commit for the key service's audit events. Every wrap and unwrap must be on the trail
// before its answer leaves (no decrypt without its event), and one transaction per event would
// cap the service at the database's commit rate. So events queue here and one writer commits
// them in batches: each request waits for the commit that carries its event, and a failed
// commit fails every request in it.
//
// The commit is also where revocation is decided, exactly. The batch takes the row locks of its
// chain heads first; a console revocation appends its own event to the same chain inside the
// revoking transaction, so the two serialise there. The batch then reads which of its tenants
// are revoked (a fresh snapshot, taken after the locks): an event that needs access and finds
// the tenant revoked is written as refused and its request answered access_revoked. No success
// can follow a revocation in a tenant's chain, whatever the notification timing.

export type HotAuditEvent = {
  /** Tenant chains only: vendor-chain events take the ordinary path (lib/audit/append.ts). */
  tenantId: string;
  actor: Actor;
  action: AuditAction;
  target?: { type: string; id: string };
  outcome: "success" | "denied" | "failure";
  request: RequestMeta;
  details?: AuditDetails;
  /** A successful use of the tenant's key: refused instead if the tenant is revoked at commit. */
  requiresAccess: boolean;
};

export type CommitResult = { id: bigint; seq: bigint; hash: string; revoked: boolean };

type Pending = { event: HotAuditEvent; resolve(result: CommitResult): void; reject(error: unknown): void };

export class AuditCommitError extends Error {
  constructor() {
    super("The audit trail could not be written.");
    this.name = "AuditCommitError";
  }
}

export type GroupCommitStats = { commits: number; events: number; largestBatch: number };

export class AuditGroupCommitter {
  private queue: Pending[] = [];
  /** Batches being committed: at most two, the second waiting on the first's chain-head locks. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Whether the newest batch in flight still waits for its locks (then no third may start). */
  private waitingForLocks = false;
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
   * Starts the next batch once the newest one in flight holds its locks: the next batch's first
   * statement then waits inside PostgreSQL and runs the moment the previous batch commits, so
   * the chain head is never idle for a round trip. Two in flight at most.
   */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.waitingForLocks || this.inFlight.size >= 2) return;
    this.scheduled = true;
    // Let the requests that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.waitingForLocks || this.inFlight.size >= 2) return;
      const batch = this.queue.splice(0, this.options.maxBatch ?? 2000);
      this.waitingForLocks = true;
      const locked = () => {
        if (!this.waitingForLocks) return;
        this.waitingForLocks = false;
        this.schedule();
      };
      const flight: Promise<void> = this.run(batch, locked).finally(() => {
        this.inFlight.delete(flight);
        locked();
        this.schedule();
      });
      this.inFlight.add(flight);
    });
  }

  private async run(batch: Pending[], locked: () => void): Promise<void> {
    try {
      const results = await this.commit(
        batch.map((p) => p.event),
        locked,
      );
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      this.options.onError?.(error);
      // One event the database refuses must not fail the others: retry them one by one.
      if (batch.length === 1) batch[0]!.reject(new AuditCommitError());
      else await this.oneByOne(batch);
    }
  }

  private async oneByOne(batch: Pending[]): Promise<void> {
    for (const pending of batch) {
      try {
        const [result] = await this.commit([pending.event]);
        pending.resolve(result!);
      } catch (error) {
        this.options.onError?.(error);
        pending.reject(new AuditCommitError());
      }
    }
  }

  /**
   * One batch in one transaction and two round trips: (1) take the chain heads and read which
   * tenants are revoked; (2) insert the events, move the heads and commit. Values travel as one
   * JSON document per statement (see literal()), so the statements need no parameters and
   * can share a message.
   */
  private async commit(events: HotAuditEvent[], locked?: () => void): Promise<CommitResult[]> {
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.tenantId, (counts.get(e.tenantId) ?? 0) + 1);
    const needAccess = [...new Set(events.filter((e) => e.requiresAccess).map((e) => e.tenantId))];

    const client = await this.pool.connect();
    let broken = false;
    try {
      // Heads are locked in chain order by every batch (ORDER BY), so batches cannot deadlock.
      // The revocation check is its own statement, so its snapshot is taken after the locks.
      const [, headsResult, revokedResult] = (await client.query(
        `BEGIN;
         INSERT INTO audit_chains AS c (chain, seq, head_hash)
           SELECT h.chain, h.n, '${GENESIS_HASH}' FROM json_to_recordset(${literal([...counts].map(([chain, n]) => ({ chain, n })))}) AS h(chain text, n int8)
           ORDER BY h.chain
         ON CONFLICT (chain) DO UPDATE SET seq = c.seq + EXCLUDED.seq
         RETURNING c.chain, c.seq::text AS seq, c.head_hash;
         SELECT id::text AS id FROM tenants
          WHERE id = ANY(ARRAY(SELECT json_array_elements_text(${literal(needAccess)}))::uuid[]) AND access_revoked_at IS NOT NULL;`,
      )) as unknown as [pg.QueryResult, pg.QueryResult<{ chain: string; seq: string; head_hash: string }>, pg.QueryResult<{ id: string }>];
      locked?.();
      const revoked = new Set(revokedResult.rows.map((row) => row.id));

      // Time is taken after the locks, so time order and chain order agree.
      const occurredAt = new Date();
      const next = new Map<string, { seq: bigint; hash: string }>();
      for (const head of headsResult.rows) {
        next.set(head.chain, { seq: BigInt(head.seq) - BigInt(counts.get(head.chain)!), hash: head.head_hash });
      }

      const rows: Array<Record<string, unknown>> = [];
      const results: Array<{ seq: bigint; hash: string; revoked: boolean }> = [];
      for (const event of events) {
        const head = next.get(event.tenantId)!;
        const refused = event.requiresAccess && revoked.has(event.tenantId);
        const seq = head.seq + 1n;
        const fields: ChainedFields = {
          chain: event.tenantId,
          seq,
          occurredAt,
          tenantId: event.tenantId,
          actorType: event.actor.type,
          actorId: event.actor.id,
          actorLabel: event.actor.label,
          action: event.action,
          targetType: event.target?.type ?? null,
          targetId: event.target?.id ?? null,
          outcome: refused ? "denied" : event.outcome,
          sourceIp: event.request.sourceIp,
          userAgent: event.request.userAgent,
          requestId: event.request.requestId,
          details: refused ? { ...event.details, code: "access_revoked" } : (event.details ?? null),
        };
        const hash = hashEvent(head.hash, fields);
        next.set(event.tenantId, { seq, hash });
        results.push({ seq, hash, revoked: refused });
        rows.push({ ...fields, seq: seq.toString(), occurredAt: occurredAt.toISOString(), prevHash: head.hash, hash });
      }

      const [insertResult] = (await client.query(
        `WITH ins AS (
           INSERT INTO audit_events (chain, seq, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                                     target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash)
           SELECT e.chain, e.seq, e."occurredAt", e."tenantId", e."actorType"::actor_type, e."actorId", e."actorLabel", e.action,
                  e."targetType", e."targetId", e.outcome::audit_outcome, e."sourceIp", e."userAgent", e."requestId", e.details,
                  e."prevHash", e.hash
             FROM json_to_recordset(${literal(rows)}) AS e(chain text, seq int8, "occurredAt" timestamptz, "tenantId" uuid, "actorType" text,
                  "actorId" text, "actorLabel" text, action text, "targetType" text, "targetId" text, outcome text, "sourceIp" text,
                  "userAgent" text, "requestId" text, details jsonb, "prevHash" text, hash text)
           RETURNING id, chain, seq
         ), heads AS (
           UPDATE audit_chains c SET head_hash = h.hash, updated_at = now()
             FROM json_to_recordset(${literal([...next].map(([chain, head]) => ({ chain, hash: head.hash })))}) AS h(chain text, hash text)
            WHERE c.chain = h.chain
         )
         SELECT id::text AS id, chain, seq::text AS seq FROM ins;
         COMMIT;`,
      )) as unknown as [pg.QueryResult<{ id: string; chain: string; seq: string }>, pg.QueryResult];
      this.stats.commits++;
      this.stats.events += events.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, events.length);

      const ids = new Map(insertResult.rows.map((row) => [`${row.chain}/${row.seq}`, row.id]));
      return events.map((e, i) => ({ ...results[i]!, id: BigInt(ids.get(`${e.tenantId}/${results[i]!.seq}`)!) }));
    } catch (error) {
      broken = true;
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }
}

/**
 * A JSON document as a SQL string literal. The pool's connections run with
 * standard_conforming_strings on (lib/db/pool.ts), so doubling single quotes is the whole
 * escaping; JSON text cannot contain a NUL byte.
 */
function literal(value: unknown): string {
  return `'${JSON.stringify(value).replace(/'/g, "''")}'::json`;
}
