import { describe, expect, it, vi } from "vitest";
import { startJobRunner } from "./runner";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    await sleep(200);
    await runner.stop();
    expect(overlapped).toBe(false);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    // Each start is at least the run's 30 ms plus the 20 ms interval after the one before.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(45);
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
    await vi.waitFor(() => expect(runs).toBe(3), { timeout: 5_000, interval: 5 });
    await runner.stop();
    expect(finished).toBe(true);
    expect(sawAbort).toBe(true);
    await sleep(30);
    expect(runs).toBe(3); // nothing scheduled after stop()
  });
});
