import "server-only";
import { SINK_KINDS, sendBatchWith, type SinkKindRegistry } from "./kinds";
import { enqueueAll } from "./outbox";
import { sinkPolicy } from "./policy";
import type { SinkTransport } from "./types";
import { CommitWake } from "./wake";
import { deliverDue, pruneDeliveryStats } from "./worker";

// The background job (lib/jobs): enqueue what the trail gained since the last pass, then
// deliver what is due. With `follow`, one run goes on for its budget: it listens for audit
// commits (lib/sinks/wake.ts) and runs a pass as soon as one is committed, or after
// `fallbackMs` without one (retries coming due, a sink enabled again); the runner starts the
// next run right after. Safe with several Custody instances running it at once: both halves
// coordinate through row locks (lib/sinks/outbox.ts, worker.ts), and every instance is woken
// by every commit.

export type SinkJobOptions = {
  budgetMs: number;
  signal?: AbortSignal;
  transport?: SinkTransport;
  kinds?: SinkKindRegistry;
  /** Keep running passes, woken by commits, until the budget is spent (else one pass). */
  follow?: boolean;
  /** Longest wait between passes without a commit. */
  fallbackMs?: number;
  /** Shortest time from one pass's start to the next's. */
  minPassMs?: number;
};

export const DEFAULT_FALLBACK_MS = 1_000;
export const DEFAULT_MIN_PASS_MS = 100;

export async function runSinkOutbox(options: SinkJobOptions) {
  const started = Date.now();
  const left = () => Math.max(options.budgetMs - (Date.now() - started), 0);
  const policy = sinkPolicy();
  const kinds = options.kinds ?? SINK_KINDS;
  const transport = options.transport ?? sendBatchWith(kinds);
  const wake = options.follow ? new CommitWake() : null;
  if (wake) await wake.open();
  const totals = { passes: 0, enqueued: 0, skipped: 0, delivered: 0, retrying: 0, failed: 0 };
  try {
    for (;;) {
      // Taken before the pass: a commit during the pass starts the next one at once.
      const seen = wake?.seen ?? 0;
      const passBudget = options.follow ? Math.min(left(), 5_000) : options.budgetMs;
      const passStarted = Date.now();
      // Enqueuing is cheap (one statement per window); it gets up to half the pass.
      const enqueued = await enqueueAll({ budgetMs: passBudget / 2, signal: options.signal });
      const delivered = await deliverDue({
        transport,
        kinds,
        allowPrivateTargets: policy.allowPrivateTargets,
        allowHttp: policy.allowHttp,
        maxAgeMs: policy.maxAgeMs,
        budgetMs: Math.max(passBudget - (Date.now() - passStarted), 0),
        signal: options.signal,
      });
      totals.passes++;
      totals.enqueued += enqueued.enqueued;
      totals.skipped += enqueued.skipped;
      totals.delivered += delivered.delivered;
      totals.retrying += delivered.retrying;
      totals.failed += delivered.failed;
      if (!wake || options.signal?.aborted || left() <= 0) break;
      // More than a pass could take: go on at once; else sleep until a commit (or the fallback).
      if (!enqueued.caughtUp || delivered.more) continue;
      await wake.wait(seen, Math.min(left(), options.fallbackMs ?? DEFAULT_FALLBACK_MS), options.signal);
      // Commits come in bursts (each group commit notifies), and every instance is woken by
      // each: passes start at most every minPassMs, so one pass takes a burst in.
      const spacing = (options.minPassMs ?? DEFAULT_MIN_PASS_MS) - (Date.now() - passStarted);
      if (spacing > 0) await wake.wait(Number.MAX_SAFE_INTEGER, Math.min(spacing, left()), options.signal);
    }
    await pruneDeliveryStats();
  } finally {
    await wake?.close();
  }
  return totals;
}
