import "server-only";
import { errorFields, log } from "@/lib/log";
import { rollUpAll } from "./roll-up";

export type UsageRollupJob = { stop: () => Promise<void> };

/**
 * Keeps the usage rollups current: every `intervalMs`, one pass over the chains with new
 * events, for at most `budgetMs`. Passes never overlap within a process (the next is scheduled
 * when one ends); across instances the watermark row lock keeps counts exact.
 */
export function startUsageRollup(options: { intervalMs?: number; budgetMs?: number } = {}): UsageRollupJob {
  const intervalMs = options.intervalMs ?? 5_000;
  const budgetMs = options.budgetMs ?? 3_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();

  const pass = async () => {
    try {
      await rollUpAll({ budgetMs });
    } catch (error) {
      log.warn(errorFields(error), "usage rollup pass failed; retrying on the next interval");
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
