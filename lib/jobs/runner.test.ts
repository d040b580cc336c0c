import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startJobRunner } from "./runner";

// Fake timers: the runner is driven by setTimeout alone, so the test moves the clock itself
// and a busy machine cannot make a run late.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the background job runner", () => {
  it("runs a job after its first delay, then every interval after the previous run ended, never overlapping", async () => {
    let running = 0;
    let overlapped = false;
    const starts: number[] = [];
    const runner = startJobRunner([
      {
        name: "slow",
        firstRunMs: 10,
        intervalMs: 20,
        run: async () => {
          starts.push(Date.now());
          running++;
          if (running > 1) overlapped = true;
          await sleep(30);
          running--;
        },
      },
    ]);
    const begun = Date.now();
    await vi.advanceTimersByTimeAsync(9);
    expect(starts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(191);
    await runner.stop();
    expect(overlapped).toBe(false);
    // At 10 ms, then each 30 ms run plus the 20 ms interval after the one before: 10, 60, 110, 160.
    expect(starts.map((at) => at - begun)).toEqual([10, 60, 110, 160]);
  });

  it("keeps running a job that failed, and stop() waits for a run in progress and signals it", async () => {
    let runs = 0;
    let sawAbort = false;
    let finished = false;
    const runner = startJobRunner([
      {
        name: "flaky",
        firstRunMs: 0,
        intervalMs: 5,
        run: async (signal) => {
          runs++;
          if (runs < 3) throw new Error("transient");
          // In progress until stop() signals it.
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          sawAbort = signal.aborted;
          finished = true;
        },
      },
    ]);
    await vi.advanceTimersByTimeAsync(40);
    expect(runs).toBe(3);
    const stopped = runner.stop();
    await vi.advanceTimersByTimeAsync(50);
    await stopped;
    expect(finished).toBe(true);
    expect(sawAbort).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(3); // nothing scheduled after stop()
  });
});
