import "server-only";
import { getDb } from "@/lib/db";
import type { LogSink } from "@/lib/db/generated/client";
import { SINK_OUTCOMES, type SinkOutcome } from "@/lib/validation/sinks";
import { destinationOf, type SecretHandling, sinkKind, sinkKindLabel, type SinkKindRegistry, type StoredSettings } from "../kinds";
import { shownSettings } from "../url-secret";
import { OUTCOME_DB } from "./shared";

// A sink as admins and auditors read it: its configuration (never its secret) and its delivery
// state, from the outbox's aggregates.

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
  kind: string;
  /** The kind's name for people. */
  kindLabel: string;
  /** How the kind's secret comes to be (lib/sinks/kinds/definition.ts). */
  secretHandling: SecretHandling["type"];
  /** Where events go, in words: an origin or host:port, never a URL's path or query. */
  target: string;
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

export async function statusesOf(tenantId: string, sinks: LogSink[]): Promise<Map<string, SinkStatus>> {
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

export const PEOPLE = { createdBy: { select: { email: true } }, updatedBy: { select: { email: true } } } as const;

export function viewOf(kinds: SinkKindRegistry, sink: SinkWithPeople, status: SinkStatus): SinkView {
  const settings = sink.settings as StoredSettings;
  return {
    id: sink.id,
    tenantId: sink.tenantId,
    name: sink.name,
    kind: sink.kind,
    kindLabel: sinkKindLabel(kinds, sink.kind),
    secretHandling: sinkKind(kinds, sink.kind)?.secret.type ?? "none",
    target: destinationOf(kinds, sink.kind, settings).shown,
    enabled: sink.enabled,
    // A URL's query string stays sealed: the form shows the URL without it.
    settings: shownSettings(settings),
    hasSecret: sink.secretCiphertext !== null,
    filter: { actions: sink.filterActions, outcomes: SINK_OUTCOMES.filter((o) => sink.filterOutcomes.includes(OUTCOME_DB[o])) },
    createdAt: sink.createdAt,
    createdBy: sink.createdBy?.email ?? null,
    updatedAt: sink.updatedAt,
    updatedBy: sink.updatedBy?.email ?? null,
    status,
  };
}
