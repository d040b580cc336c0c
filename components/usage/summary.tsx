import { LocalTime } from "@/components/local-time";
import { formatCount } from "@/components/usage/format";
import { seriesTotals, type UsageSeries } from "@/lib/audit/usage/series";

type Totals = ReturnType<typeof seriesTotals>;

/** Sums the newest `count` buckets of a series (all when omitted). */
export function totalsOf(series: UsageSeries, count?: number): Totals {
  return seriesTotals(count === undefined ? series : { ...series, buckets: series.buckets.slice(-count) });
}

function Tile({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <div className="rounded-md border border-border p-3">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="mt-1 text-xl font-semibold tabular-nums" data-testid={testId}>
        {formatCount(value)}
      </dd>
    </div>
  );
}

/** The headline figures for one period, as text: what the charts show, readable without them. */
export function PeriodSummary({ title, totals, testId }: { title: string; totals: Totals; testId: string }) {
  return (
    <section aria-label={title} className="space-y-2">
      <h3 className="text-sm font-semibold">{title}</h3>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Tile label="Data keys handled" value={totals.total.items} testId={`${testId}-items`} />
        <Tile label="Calls" value={totals.total.events} testId={`${testId}-calls`} />
        <Tile label="Refused calls" value={totals.byOutcome.denied.events} testId={`${testId}-refused`} />
        <Tile label="Failed calls" value={totals.byOutcome.failure.events} testId={`${testId}-failed`} />
      </dl>
    </section>
  );
}

/** How current the figures are: counted through which event time, and whether more are being counted. */
export function FreshnessNote({ countedThrough, pending }: { countedThrough: string | null; pending: number }) {
  return (
    <p className="text-sm text-muted-foreground" data-testid="usage-freshness">
      {countedThrough ? (
        <>
          Counted through the event of <LocalTime value={countedThrough} withSeconds />.
        </>
      ) : (
        "No events counted yet."
      )}{" "}
      {pending > 0
        ? `${formatCount(pending)} newer ${pending === 1 ? "event is" : "events are"} still being counted in the background; reload in a few seconds.`
        : "New events are counted within seconds."}
    </p>
  );
}
