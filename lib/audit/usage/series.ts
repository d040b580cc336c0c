// Dense time series for the usage charts: every hour or day of the window gets a bucket, with
// zeros where nothing happened, so a chart's axis is the window and a gap reads as "none".
// Pure, shared by the tenant's and the vendor's pages.
import { KEY_SERVICE_ACTIONS, type KeyServiceAction } from "./key-actions";

export type Counts = { events: number; items: number };
export type OutcomeName = "success" | "denied" | "failure";
export const OUTCOMES: readonly OutcomeName[] = ["success", "denied", "failure"];

export type UsageBucket = {
  /** The bucket's start: an ISO instant for hours, YYYY-MM-DD (UTC) for days. */
  at: string;
  total: Counts;
  byAction: Record<KeyServiceAction, Counts>;
  byOutcome: Record<OutcomeName, Counts>;
};

export type UsageSeries = { unit: "hour" | "day"; buckets: UsageBucket[] };

export type CountRow = { at: Date; action: string; outcome: string; events: bigint | number; items: bigint | number };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The last `count` whole UTC hours up to and including the current one, oldest first. */
export function hourWindow(now: Date, count: number): Date[] {
  const current = Math.floor(now.getTime() / HOUR) * HOUR;
  return Array.from({ length: count }, (_, i) => new Date(current - (count - 1 - i) * HOUR));
}

/** The last `count` UTC days up to and including today, oldest first (each at 00:00 UTC). */
export function dayWindow(now: Date, count: number): Date[] {
  const today = Math.floor(now.getTime() / DAY) * DAY;
  return Array.from({ length: count }, (_, i) => new Date(today - (count - 1 - i) * DAY));
}

function bucketKey(unit: "hour" | "day", at: Date): string {
  return unit === "hour" ? at.toISOString() : at.toISOString().slice(0, 10);
}

const zero = (): Counts => ({ events: 0, items: 0 });

function emptyBucket(at: string): UsageBucket {
  return {
    at,
    total: zero(),
    byAction: Object.fromEntries(KEY_SERVICE_ACTIONS.map((a) => [a, zero()])) as Record<KeyServiceAction, Counts>,
    byOutcome: { success: zero(), denied: zero(), failure: zero() },
  };
}

function add(into: Counts, events: number, items: number): void {
  into.events += events;
  into.items += items;
}

/** Key-service counts per bucket of the window; rows outside it or for other actions are ignored. */
export function buildSeries(unit: "hour" | "day", window: Date[], rows: CountRow[]): UsageSeries {
  const buckets = window.map((at) => emptyBucket(bucketKey(unit, at)));
  const byKey = new Map(buckets.map((b) => [b.at, b]));
  for (const row of rows) {
    const bucket = byKey.get(bucketKey(unit, row.at));
    if (!bucket || !(row.action in bucket.byAction)) continue;
    const events = Number(row.events);
    const items = Number(row.items);
    add(bucket.total, events, items);
    add(bucket.byAction[row.action as KeyServiceAction], events, items);
    if (row.outcome in bucket.byOutcome) add(bucket.byOutcome[row.outcome as OutcomeName], events, items);
  }
  return { unit, buckets };
}

/** Sum of a series' buckets. */
export function seriesTotals(series: UsageSeries): { total: Counts; byOutcome: Record<OutcomeName, Counts> } {
  const total = zero();
  const byOutcome = { success: zero(), denied: zero(), failure: zero() };
  for (const b of series.buckets) {
    add(total, b.total.events, b.total.items);
    for (const o of OUTCOMES) add(byOutcome[o], b.byOutcome[o].events, b.byOutcome[o].items);
  }
  return { total, byOutcome };
}
