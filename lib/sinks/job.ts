import "server-only";
import { SINK_KINDS, sendBatchWith, type SinkKindRegistry } from "./kinds";
import { enqueueAll } from "./outbox";
import { sinkPolicy } from "./policy";
import type { SinkTransport } from "./types";
import { deliverDue, pruneDeliveryStats } from "./worker";

// The background job (lib/jobs, every second): enqueue what the trail gained since the last
// run, then deliver what is due, within a time budget. Safe with several Custody instances
// running it at once: both halves coordinate through row locks (lib/sinks/outbox.ts, worker.ts).

export type SinkJobOptions = { budgetMs: number; signal?: AbortSignal; transport?: SinkTransport; kinds?: SinkKindRegistry };

export async function runSinkOutbox(options: SinkJobOptions) {
  const started = Date.now();
  const policy = sinkPolicy();
  const kinds = options.kinds ?? SINK_KINDS;
  const transport = options.transport ?? sendBatchWith(kinds);
  // Enqueuing is cheap (one statement per window); it gets up to half the budget.
  const enqueued = await enqueueAll({ budgetMs: options.budgetMs / 2, signal: options.signal });
  const delivered = await deliverDue({
    transport,
    kinds,
    allowPrivateTargets: policy.allowPrivateTargets,
    allowHttp: policy.allowHttp,
    maxAgeMs: policy.maxAgeMs,
    budgetMs: Math.max(options.budgetMs - (Date.now() - started), 0),
    signal: options.signal,
  });
  await pruneDeliveryStats();
  return { enqueued: enqueued.enqueued, skipped: enqueued.skipped, ...delivered };
}
