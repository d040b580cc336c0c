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
  private flushing: Promise<void> | null = null;
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
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /** Waits for queued events to commit, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
  }

  private async drain(): Promise<void> {
    // Let the requests that arrived in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch ?? 2000);
        try {
          const results = await this.commit(batch.map((p) => p.event));
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (error) {
          this.options.onError?.(error);
          for (const p of batch) p.reject(new AuditCommitError());
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commit(events: HotAuditEvent[]): Promise<CommitResult[]> {
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.tenantId, (counts.get(e.tenantId) ?? 0) + 1);
    // Heads are locked in one order by every batch, so two instances' batches cannot deadlock.
    const chains = [...counts.keys()].sort();

    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const heads = await client.query<{ chain: string; seq: string; head_hash: string }>(
        `INSERT INTO audit_chains AS c (chain, seq, head_hash)
           SELECT * FROM unnest($1::text[], $2::int8[], $3::text[])
         ON CONFLICT (chain) DO UPDATE SET seq = c.seq + EXCLUDED.seq
         RETURNING c.chain, c.seq::text AS seq, c.head_hash`,
        [chains, chains.map((c) => counts.get(c)!), chains.map(() => GENESIS_HASH)],
      );
      const needAccess = [...new Set(events.filter((e) => e.requiresAccess).map((e) => e.tenantId))];
      const revoked = new Set<string>();
      if (needAccess.length > 0) {
        const rows = await client.query<{ id: string }>(
          "SELECT id::text AS id FROM tenants WHERE id = ANY($1::uuid[]) AND access_revoked_at IS NOT NULL",
          [needAccess],
        );
        for (const row of rows.rows) revoked.add(row.id);
      }

      // Time is taken after the locks, so time order and chain order agree.
      const occurredAt = new Date();
      const next = new Map<string, { seq: bigint; hash: string }>();
      for (const head of heads.rows) {
        next.set(head.chain, { seq: BigInt(head.seq) - BigInt(counts.get(head.chain)!), hash: head.head_hash });
      }

      const columns: unknown[][] = Array.from({ length: 17 }, () => []);
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
        const row = [
          fields.chain, seq.toString(), occurredAt.toISOString(), fields.tenantId, fields.actorType, fields.actorId, fields.actorLabel,
          fields.action, fields.targetType, fields.targetId, fields.outcome, fields.sourceIp, fields.userAgent, fields.requestId,
          fields.details === null ? null : JSON.stringify(fields.details), head.hash, hash,
        ];
        row.forEach((value, i) => columns[i]!.push(value));
      }

      const inserted = await client.query<{ id: string }>(
        `WITH ins AS (
           INSERT INTO audit_events (chain, seq, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                                     target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash)
           SELECT * FROM unnest($1::text[], $2::int8[], $3::timestamptz[], $4::uuid[], $5::actor_type[], $6::text[], $7::text[],
                                $8::text[], $9::text[], $10::text[], $11::audit_outcome[], $12::text[], $13::text[], $14::text[],
                                $15::jsonb[], $16::text[], $17::text[])
           RETURNING id, chain, seq
         ), heads AS (
           UPDATE audit_chains c SET head_hash = h.hash, updated_at = now()
           FROM unnest($18::text[], $19::text[]) AS h(chain, hash) WHERE c.chain = h.chain
         )
         SELECT id::text AS id FROM ins ORDER BY chain, seq`,
        [...columns, [...next.keys()], [...next.values()].map((h) => h.hash)],
      );
      await client.query("COMMIT");
      this.stats.commits++;
      this.stats.events += events.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, events.length);

      // Rows came back in (chain, seq) order; map them to events by their chain position.
      const ids = new Map<string, string>();
      const order = events.map((e, i) => ({ chain: e.tenantId, seq: results[i]!.seq })).sort((a, b) =>
        a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq < b.seq ? -1 : 1,
      );
      order.forEach((o, i) => ids.set(`${o.chain}/${o.seq}`, inserted.rows[i]!.id));
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
