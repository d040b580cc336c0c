import Link from "next/link";
import { AuditEventDetail } from "@/components/audit/audit-event-detail";
import { AuditExportButton } from "@/components/audit/export-button";
import { LiveAuditTable } from "@/components/audit/live-audit-table";
import { AuditFilterForm, type FilterValues } from "@/components/audit/audit-filter-form";
import { AuditTable } from "@/components/audit-table";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { AuditPage, EventFocus, TrailOptions } from "@/lib/audit";
import { ACTION_LABELS, AUDIT_ACTION_LIST } from "@/lib/audit/catalogue";
import { filterParams, isFiltered, parseAuditQuery, parseSeq } from "@/lib/audit/query/filter";
import { toLiveEvent } from "@/lib/audit/live/live-event";

export type SearchParams = Record<string, string | string[] | undefined>;

const ACTION_OPTIONS = AUDIT_ACTION_LIST.map((value) => ({ value, label: ACTION_LABELS[value] }))
  .sort((a, b) => a.label.localeCompare(b.label));

export type AuditTrailViewProps = {
  /** The page's own path, e.g. /t/acme/audit. */
  basePath: string;
  searchParams: SearchParams;
  /** Reads a page of the chain (authorised by the caller's data-layer function). */
  list: (options: TrailOptions) => Promise<AuditPage>;
  /** Reads one event of the chain by seq. */
  find: (seq: bigint) => Promise<EventFocus>;
  /** KMS keys for the key filter (none on the vendor chain). */
  keys?: Array<{ value: string; label: string }>;
  /** Where the current view can be exported (the tenant trail's export route), if it can. */
  exportUrl?: string;
  /** The live stream of the chain (tenant trails): its route, and how to read the chain's head. */
  live?: { streamPath: string; headSeq: () => Promise<bigint> };
};

/**
 * A chain's trail as the console shows it: the filter form (its state in the URL), the detail
 * of one event (`?event=N`, or `?seq=N` to open the page at it), the events, and keyset paging.
 * Bad parameters get a message next to the field and no query.
 */
export async function AuditTrailView({ basePath, searchParams: raw, list, find, keys = [], exportUrl, live }: AuditTrailViewProps) {
  const { query, problems } = parseAuditQuery(raw);
  const filterQuery = filterParams(query.filter).toString();
  const withFilter = (extra: Record<string, string>) => {
    const p = new URLSearchParams(filterQuery);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return `${basePath}?${p}`;
  };
  const newest = filterQuery ? `${basePath}?${filterQuery}` : basePath;

  const detailSeq = query.seq ?? eventParam(raw.event);
  const focus = detailSeq !== undefined ? await find(detailSeq) : null;
  const before = query.seq !== undefined && focus ? focus.cursor : query.before;
  // The head is read before the page: the stream starts after it, and overlaps are de-duplicated.
  const headSeq = live && problems.length === 0 ? await live.headSeq() : null;
  const page = problems.length === 0 ? await list({ filter: query.filter, before, limit: query.limit }) : null;
  // Live only where new events would show: the newest page of a range that has not ended.
  const streaming = before === undefined && rangeIsOpen(query.filter.to);
  const emptyMessage = isFiltered(query.filter) ? "No events match these filters." : "No events yet.";
  const errors = Object.fromEntries(problems.map((p) => [p.field, p.message]));
  const linkProblem = problems.find((p) => p.field === "before" || p.field === "seq");

  return (
    <>
      <AuditFilterForm basePath={basePath} values={valuesOf(raw)} errors={errors} actions={ACTION_OPTIONS} keys={keys} />
      {exportUrl && problems.length === 0 ? (
        <div className="mb-4">
          <AuditExportButton exportUrl={exportUrl} query={filterQuery} />
        </div>
      ) : null}
      {linkProblem ? (
        <Alert variant="destructive" className="mb-4">
          <AlertTitle>This link does not point at a page of the trail</AlertTitle>
          <AlertDescription>
            {linkProblem.message}{" "}
            <Link href={basePath} className="underline">
              Newest events
            </Link>
          </AlertDescription>
        </Alert>
      ) : problems.length > 0 ? (
        <Alert variant="destructive" className="mb-4">
          <AlertTitle>Some filters are not valid</AlertTitle>
          <AlertDescription>Correct the fields marked above; nothing was searched.</AlertDescription>
        </Alert>
      ) : null}
      {detailSeq !== undefined && !focus ? (
        <Alert className="mb-4">
          <AlertTitle>Event #{detailSeq.toString()} is not in this trail</AlertTitle>
          <AlertDescription>It may have been removed by the retention period, or it does not exist yet.</AlertDescription>
        </Alert>
      ) : null}
      {focus ? <AuditEventDetail event={focus.event} hrefFor={(seq) => withFilter({ event: seq.toString() })} closeHref={newest} /> : null}
      {page ? (
        <>
          {live && headSeq !== null ? (
            <LiveAuditTable
              events={page.events.map(toLiveEvent)}
              streamPath={live.streamPath}
              filterQuery={filterQuery}
              headSeq={headSeq.toString()}
              live={streaming}
              emptyMessage={emptyMessage}
            />
          ) : page.events.length === 0 ? (
            <p className="py-6 text-center text-sm text-muted-foreground">{emptyMessage}</p>
          ) : (
            <AuditTable events={page.events} detailQuery={filterQuery} />
          )}
          <div className="mt-4 flex justify-between">
            {before ? (
              <Button asChild variant="outline" size="sm">
                <Link href={newest}>← Newest</Link>
              </Button>
            ) : (
              <span />
            )}
            {page.next ? (
              <Button asChild variant="outline" size="sm">
                <Link href={withFilter({ before: page.next })}>Older events →</Link>
              </Button>
            ) : null}
          </div>
        </>
      ) : null}
    </>
  );
}

/** Whether a time range's end (if any) is still ahead, so new events can fall in it. */
function rangeIsOpen(to: Date | undefined): boolean {
  return !to || to.getTime() > Date.now();
}

function eventParam(value: SearchParams[string]): bigint | undefined {
  return parseSeq(Array.isArray(value) ? value[0] : value);
}

/** The filter fields as typed, so a refused value stays in its box to be corrected. */
function valuesOf(raw: SearchParams): FilterValues {
  const values: FilterValues = {};
  for (const name of ["action", "outcome", "actor", "key", "label", "object", "request", "from", "to", "q"] as const) {
    const value = raw[name];
    const single = Array.isArray(value) ? value[0] : value;
    if (single) values[name] = single.slice(0, 200);
  }
  return values;
}
