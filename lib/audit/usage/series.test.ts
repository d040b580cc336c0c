import { describe, expect, it } from "vitest";
import { buildSeries, dayWindow, hourWindow, seriesTotals } from "./series";

const now = new Date("2026-11-29T14:35:10Z");

describe("usage windows", () => {
  it("hours: the current hour and the ones before it, oldest first, on the hour in UTC", () => {
    const hours = hourWindow(now, 48);
    expect(hours).toHaveLength(48);
    expect(hours.at(-1)!.toISOString()).toBe("2026-11-29T14:00:00.000Z");
    expect(hours[0]!.toISOString()).toBe("2026-11-27T15:00:00.000Z");
  });

  it("days: today and the 29 before it, at 00:00 UTC", () => {
    const days = dayWindow(now, 30);
    expect(days.at(-1)!.toISOString()).toBe("2026-11-29T00:00:00.000Z");
    expect(days[0]!.toISOString()).toBe("2026-10-31T00:00:00.000Z");
  });
});

describe("buildSeries", () => {
  it("fills every bucket, puts each row in its bucket by operation and outcome, and ignores the rest", () => {
    const series = buildSeries("hour", hourWindow(now, 3), [
      { at: new Date("2026-11-29T14:00:00Z"), action: "key.batch_unwrap", outcome: "success", events: 2n, items: 200n },
      { at: new Date("2026-11-29T14:00:00Z"), action: "key.unwrap", outcome: "denied", events: 1n, items: 1n },
      { at: new Date("2026-11-29T12:00:00Z"), action: "key.wrap", outcome: "failure", events: 3, items: 3 },
      // Outside the window, or not a key operation: not charted.
      { at: new Date("2026-11-29T11:00:00Z"), action: "key.wrap", outcome: "success", events: 9, items: 9 },
      { at: new Date("2026-11-29T14:00:00Z"), action: "auth.sign_in", outcome: "success", events: 5, items: 5 },
    ]);
    expect(series.buckets.map((b) => [b.at, b.total])).toEqual([
      ["2026-11-29T12:00:00.000Z", { events: 3, items: 3 }],
      ["2026-11-29T13:00:00.000Z", { events: 0, items: 0 }],
      ["2026-11-29T14:00:00.000Z", { events: 3, items: 201 }],
    ]);
    const last = series.buckets[2]!;
    expect(last.byAction["key.batch_unwrap"]).toEqual({ events: 2, items: 200 });
    expect(last.byOutcome).toEqual({ success: { events: 2, items: 200 }, denied: { events: 1, items: 1 }, failure: { events: 0, items: 0 } });
    expect(seriesTotals(series).byOutcome.failure).toEqual({ events: 3, items: 3 });
  });

  it("days are keyed by their UTC date", () => {
    const series = buildSeries("day", dayWindow(now, 2), [
      { at: new Date("2026-11-28T00:00:00Z"), action: "key.rekey", outcome: "success", events: 4, items: 4 },
    ]);
    expect(series.buckets.map((b) => [b.at, b.total.events])).toEqual([
      ["2026-11-28", 4],
      ["2026-11-29", 0],
    ]);
  });
});
