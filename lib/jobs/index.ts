import "server-only";
import type { Env } from "@/lib/config";
import { type Job, type JobRunner, startJobRunner } from "./runner";

export { type Job, type JobRunner, startJobRunner } from "./runner";

// The background jobs `npm start` runs (lib/server/start-custody.ts). Add a job here.

export function backgroundJobs(env: Env): Job[] {
  const jobs: Job[] = [
    {
      // Sign every chain whose head moved since its last checkpoint.
      name: "audit-checkpoints",
      intervalMs: env.AUDIT_CHECKPOINT_INTERVAL_MINUTES * 60_000,
      run: async () => (await import("@/lib/audit/integrity/checkpoints")).signDueCheckpoints(),
    },
    {
      // Count new audit events into the usage rollups (lib/audit/usage): a few seconds behind.
      name: "audit-usage-rollup",
      intervalMs: 5_000,
      firstRunMs: 1_000,
      run: async (signal) => (await import("@/lib/audit/usage")).rollUpAll({ budgetMs: 3_000, signal }),
    },
    {
      // Free text and the details-backed filters' search structure (lib/audit/search): a second behind the chain.
      name: "audit-search",
      intervalMs: 1_000,
      firstRunMs: 1_000,
      run: async (signal) => (await import("@/lib/audit/search/indexer")).indexAll({ budgetMs: 5_000, signal }),
    },
    {
      // The fleet table's last-24-hours counts per tenant (lib/fleet), from the usage rollups.
      name: "fleet-usage",
      intervalMs: 60_000,
      firstRunMs: 3_000,
      run: async () => (await import("@/lib/fleet/refresh-fleet-usage")).refreshFleetUsage(),
    },
    {
      // KMS-key rotation reminders (lib/fleet/kms-rotation.ts): one event per overdue key and period.
      name: "kms-rotation-reminders",
      intervalMs: 60 * 60_000,
      firstRunMs: 30_000,
      run: async () => (await import("@/lib/fleet/kms-rotation")).sendKmsRotationReminders(),
    },
    {
      // audit_events' monthly partitions, made months ahead (lib/audit/trail/partitions.ts).
      name: "audit-partitions",
      intervalMs: 6 * 60 * 60_000,
      firstRunMs: 5_000,
      run: async () => ({ created: await (await import("@/lib/audit/trail/partitions")).ensureAuditPartitions() }),
    },
    {
      // Tenant key rotation on each tenant's schedule (lib/keys/versions): a new version when the current one is older.
      name: "tenant-key-rotation",
      intervalMs: 10 * 60_000,
      firstRunMs: 30_000,
      run: async (signal) => (await import("@/lib/keys/versions/rotate-tenant-key")).rotateDueTenantKeys({ signal }),
    },
    {
      // Log sinks (lib/sinks): new events into each sink's outbox, then due batches to the
      // receivers. A run follows the trail for 30 s, woken by each audit commit (at least every
      // second); the next run starts right after.
      name: "log-sinks",
      intervalMs: 100,
      firstRunMs: 2_000,
      run: async (signal) => (await import("@/lib/sinks/job")).runSinkOutbox({ budgetMs: 30_000, signal, follow: true }),
    },
    {
      // KMS key rotations (lib/keys/rotation) no live worker holds: started elsewhere, or their worker died.
      name: "kms-key-rotations",
      intervalMs: 5_000,
      firstRunMs: 2_000,
      run: async (signal) => (await import("@/lib/keys/rotation")).resumeRunningRotations({ signal }),
    },
  ];
  const retentionDays = env.AUDIT_RETENTION_DAYS;
  if (retentionDays !== undefined) {
    jobs.push({
      // Hourly: whole months behind every chain's anchor are dropped (lib/audit/trail/partitions.ts),
      // then the rest row by row; each chain stops at its newest checkpoint (lib/audit/trail/prune.ts).
      name: "audit-retention",
      intervalMs: 60 * 60_000,
      firstRunMs: 60_000,
      run: async (signal) => {
        const { dropExpiredPartitions } = await import("@/lib/audit/trail/partitions");
        const { pruneExpired } = await import("@/lib/audit/trail/prune");
        const months = await dropExpiredPartitions({ retentionDays, signal });
        const results = await pruneExpired({ retentionDays, signal });
        return {
          droppedMonths: months.filter((m) => m.dropped).length,
          pruned: months.reduce((n, m) => n + (m.dropped ? m.events : 0), 0) + results.reduce((n, r) => n + r.pruned, 0),
        };
      },
    });
  }
  return jobs;
}

export function startBackgroundJobs(env: Env): JobRunner {
  return startJobRunner(backgroundJobs(env));
}
