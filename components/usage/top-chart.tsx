"use client";

import * as React from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { EmptyState } from "@/components/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatCount, formatTick, TOOLTIP_STYLE } from "./format";
import { Segmented } from "./segmented";
import type { Metric } from "./time-series-chart";

export type TopRow = { key: string; name: string; detail?: string; events: number; items: number; denied: number };

const METRICS = [
  { value: "items", label: "Data keys" },
  { value: "events", label: "Calls" },
] as const;

const shorten = (name: string) => (name.length > 28 ? `${name.slice(0, 27)}…` : name);

/** A ranked list (top data labels, top actors) as horizontal bars, with its table always shown. */
export function TopChart({
  title,
  description,
  rows,
  nameHeader,
  empty,
  testId,
  color = "#0072B2",
  eventsOnly = false,
}: {
  title: string;
  description: string;
  rows: TopRow[];
  nameHeader: string;
  empty: string;
  testId: string;
  color?: string;
  /** For console activity, where a data-key count means nothing: events only. */
  eventsOnly?: boolean;
}) {
  const [chosen, setMetric] = React.useState<Metric>("items");
  const metric: Metric = eventsOnly ? "events" : chosen;
  const countName = eventsOnly ? "Events" : metric === "items" ? "Data keys" : "Calls";
  const headingId = React.useId();
  const sorted = [...rows].sort((a, b) => b[metric] - a[metric] || b.events - a.events);
  const data = sorted.map((r) => ({ name: shorten(r.name), full: r.name, value: r[metric] }));

  return (
    <figure aria-labelledby={headingId} data-testid={testId} className="space-y-3">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="space-y-1">
          <h3 id={headingId} className="text-base font-semibold">
            {title}
          </h3>
          <figcaption className="max-w-2xl text-sm text-muted-foreground">{description}</figcaption>
        </div>
        {eventsOnly ? null : <Segmented label={`${title}: count`} options={METRICS} value={metric} onChange={setMetric} />}
      </div>
      {rows.length === 0 ? (
        <EmptyState title="Nothing yet" description={empty} />
      ) : (
        <>
          <div className="text-muted-foreground">
            <BarChart
              data={data}
              layout="vertical"
              responsive
              style={{ width: "100%", height: 48 + data.length * 30 }}
              margin={{ top: 4, right: 16, bottom: 20, left: 8 }}
              title={`${title}, ${countName.toLowerCase()}`}
              desc="Horizontal bars, largest first; the table below lists the same numbers."
            >
              <CartesianGrid horizontal={false} strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.2} />
              <XAxis
                type="number"
                allowDecimals={false}
                tickFormatter={formatTick}
                tick={{ fill: "currentColor", fontSize: 12 }}
                label={{ value: `${countName}, last 30 days`, position: "insideBottom", offset: -12, fill: "currentColor", fontSize: 12 }}
              />
              <YAxis type="category" dataKey="name" width={180} tick={{ fill: "currentColor", fontSize: 12 }} interval={0} />
              <Tooltip
                contentStyle={TOOLTIP_STYLE}
                labelFormatter={(_, payload) => (payload?.[0]?.payload as { full?: string } | undefined)?.full ?? ""}
                formatter={(value) => [formatCount(Number(value)), countName]}
              />
              <Bar dataKey="value" fill={color} isAnimationActive={false} />
            </BarChart>
          </div>
          <Table data-testid={`${testId}-table`}>
            <TableHeader>
              <TableRow>
                <TableHead>{nameHeader}</TableHead>
                {eventsOnly ? null : <TableHead className="text-right">Data keys</TableHead>}
                <TableHead className="text-right">{eventsOnly ? "Events" : "Calls"}</TableHead>
                <TableHead className="text-right">Refused</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {sorted.map((r) => (
                <TableRow key={r.key} data-testid={`${testId}-row`} data-name={r.name}>
                  <TableCell className="max-w-xs break-words">
                    <div className="font-medium">{r.name}</div>
                    {r.detail ? <div className="text-xs text-muted-foreground">{r.detail}</div> : null}
                  </TableCell>
                  {eventsOnly ? null : (
                    <TableCell className="text-right tabular-nums" data-testid="items">
                      {formatCount(r.items)}
                    </TableCell>
                  )}
                  <TableCell className="text-right tabular-nums" data-testid="calls">
                    {formatCount(r.events)}
                  </TableCell>
                  <TableCell className="text-right tabular-nums" data-testid="refused">
                    {formatCount(r.denied)}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      )}
    </figure>
  );
}
