import { noteDatabaseError } from "@/lib/db/health";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { errorFields, log } from "@/lib/log";

// A small in-process runner for periodic work (checkpoints, retention, …). Each job runs once
// shortly after start, then every `intervalMs` after its previous run finished, so a slow run
// never overlaps the next. Jobs must be safe with several Custody instances running them at
// once (they coordinate in the database: unique constraints, advisory locks). A run that fails
// (the database restarting, say) is simply run again at its next interval. stop() stops
// scheduling, signals the running jobs and waits for them to finish.

export type Job = {
  name: string;
  intervalMs: number;
  /** Delay before the first run (default: 5 s, so start-up is not slowed). */
  firstRunMs?: number;
  run: (signal: AbortSignal) => Promise<unknown>;
};

export type JobRunner = {
  stop: () => Promise<void>;
  runNow: (name: string) => Promise<void>;
  /** For readiness: "stalled" while some run has taken far longer than its job's interval. */
  status: () => "ok" | "stalled" | "stopped";
};

/** A run is stalled once it has taken this many intervals, and at least STALL_FLOOR_MS. */
const STALL_INTERVALS = 3;
const STALL_FLOOR_MS = 10 * 60_000;

export function startJobRunner(jobs: Job[], clock: { now: () => number } = Date): JobRunner {
  const controller = new AbortController();
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Map<string, Promise<void>>();
  const startedAt = new Map<string, number>();

  const runOnce = (job: Job): Promise<void> => {
    const current = inFlight.get(job.name);
    if (current) return current;
    const started = clock.now();
    startedAt.set(job.name, started);
    const promise = job
      .run(controller.signal)
      .then(
        (outcome) => log.debug({ job: job.name, ms: clock.now() - started, outcome }, "background job finished"),
        (error: unknown) => {
          // A database outage is logged once (lib/db/health.ts); the job simply runs again later.
          if (isDatabaseUnavailable(error)) noteDatabaseError(error);
          else log.error({ job: job.name, ...errorFields(error) }, "background job failed");
        },
      )
      .finally(() => {
        inFlight.delete(job.name);
        startedAt.delete(job.name);
        schedule(job, job.intervalMs);
      });
    inFlight.set(job.name, promise);
    return promise;
  };

  const schedule = (job: Job, delay: number) => {
    if (controller.signal.aborted) return;
    clearTimeout(timers.get(job.name));
    const timer = setTimeout(() => void runOnce(job), delay);
    timer.unref();
    timers.set(job.name, timer);
  };

  for (const job of jobs) schedule(job, job.firstRunMs ?? 5_000);

  return {
    status: () => {
      if (controller.signal.aborted) return "stopped";
      const now = clock.now();
      const stalled = jobs.some((job) => {
        const since = startedAt.get(job.name);
        return since !== undefined && now - since > Math.max(STALL_INTERVALS * job.intervalMs, STALL_FLOOR_MS);
      });
      return stalled ? "stalled" : "ok";
    },
    runNow: async (name) => {
      const job = jobs.find((j) => j.name === name);
      if (!job) throw new Error(`no background job named ${name}`);
      clearTimeout(timers.get(name));
      await runOnce(job);
    },
    stop: async () => {
      controller.abort();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
