"use client";

import * as React from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { EmptyState } from "@/components/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { KEY_SERVICE_ACTIONS, USAGE_CHART_ROLES } from "@/lib/audit/catalogue";
import { type OutcomeName, OUTCOMES, type UsageBucket, type UsageSeries } from "@/lib/audit/usage/series";
import { OUTCOME_COLORS, OUTCOME_NAMES, bucketLabel, bucketTick, formatCount, formatTick, TOOLTIP_STYLE } from "./format";
import { Segmented } from "./segmented";

export type Metric = "items" | "events";
export type SeriesView = "action" | "outcome" | "refusals";

const METRICS = [
  { value: "items", label: "Data keys" },
  { value: "events", label: "Calls" },
] as const;

const VIEW_LABELS: Record<SeriesView, string> = { action: "By operation", outcome: "By outcome", refusals: "Refused and failed" };

type Line = { key: string; name: string; color: string; value: (b: UsageBucket, metric: Metric) => number };

function linesOf(view: SeriesView): Line[] {
  if (view === "action") {
    return KEY_SERVICE_ACTIONS.map((action) => ({
      key: action,
      name: USAGE_CHART_ROLES[action].name,
      color: USAGE_CHART_ROLES[action].color,
      value: (b, metric) => b.byAction[action][metric],
    }));
  }
  const outcomes: readonly OutcomeName[] = view === "outcome" ? OUTCOMES : ["denied", "failure"];
  return outcomes.map((outcome) => ({
    key: outcome,
    name: OUTCOME_NAMES[outcome],
    color: OUTCOME_COLORS[outcome],
    value: (b, metric) => b.byOutcome[outcome][metric],
  }));
}

/**
 * A stacked bar chart of key-service use over a window (hours or days), switchable between data
 * keys and calls and between the given views, with the numbers in a table below it.
 */
export function TimeSeriesChart({
  title,
  description,
  series,
  views,
  empty,
  testId,
}: {
  title: string;
  description: string;
  series: UsageSeries;
  views: readonly SeriesView[];
  /** What will appear here, said when nothing has yet. */
  empty: string;
  testId: string;
}) {
  const [metric, setMetric] = React.useState<Metric>("items");
  const [view, setView] = React.useState<SeriesView>(views[0]!);
  const headingId = React.useId();
  const lines = linesOf(view);
  const rows = series.buckets.map((b) => ({
    tick: bucketTick(series.unit, b.at),
    label: bucketLabel(series.unit, b.at),
    ...Object.fromEntries(lines.map((l) => [l.key, l.value(b, metric)])),
  }));
  const shown = series.buckets.filter((b) => lines.some((l) => l.value(b, "events") > 0));
  const metricName = metric === "items" ? "data keys" : "calls";
  const unitName = series.unit === "hour" ? "Hour (UTC)" : "Day (UTC)";

  return (
    <figure aria-labelledby={headingId} data-testid={testId} className="space-y-3">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="space-y-1">
          <h3 id={headingId} className="text-base font-semibold">
            {title}
          </h3>
          <figcaption className="max-w-2xl text-sm text-muted-foreground">{description}</figcaption>
        </div>
        <div className="flex flex-wrap gap-2">
          {views.length > 1 ? (
            <Segmented label={`${title}: group by`} options={views.map((v) => ({ value: v, label: VIEW_LABELS[v] }))} value={view} onChange={setView} />
          ) : null}
          <Segmented label={`${title}: count`} options={METRICS} value={metric} onChange={setMetric} />
        </div>
      </div>
      {shown.length === 0 ? (
        <EmptyState title="Nothing yet" description={empty} />
      ) : (
        <>
          <div className="text-muted-foreground">
            <BarChart
              data={rows}
              responsive
              style={{ width: "100%", height: 280 }}
              margin={{ top: 8, right: 8, bottom: 24, left: 8 }}
              title={`${title}, ${metricName}`}
              desc={`Stacked bars, one per ${series.unit}; the table below lists the same numbers.`}
            >
              <CartesianGrid vertical={false} strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.2} />
              <XAxis
                dataKey="tick"
                tick={{ fill: "currentColor", fontSize: 12 }}
                interval="preserveStartEnd"
                minTickGap={16}
                label={{ value: unitName, position: "insideBottom", offset: -16, fill: "currentColor", fontSize: 12 }}
              />
              <YAxis
                allowDecimals={false}
                tickFormatter={formatTick}
                tick={{ fill: "currentColor", fontSize: 12 }}
                width={56}
                label={{ value: metric === "items" ? "Data keys" : "Calls", angle: -90, position: "insideLeft", fill: "currentColor", fontSize: 12 }}
              />
              <Tooltip
                contentStyle={TOOLTIP_STYLE}
                labelFormatter={(_, payload) => (payload?.[0]?.payload as { label?: string } | undefined)?.label ?? ""}
                formatter={(value) => formatCount(Number(value))}
              />
              <Legend verticalAlign="top" height={28} wrapperStyle={{ fontSize: 12 }} />
              {lines.map((l) => (
                <Bar key={l.key} dataKey={l.key} name={l.name} stackId="usage" fill={l.color} isAnimationActive={false} />
              ))}
            </BarChart>
          </div>
          <details className="text-sm">
            <summary className="cursor-pointer text-muted-foreground hover:text-foreground">
              Show the numbers ({metricName}; {series.unit === "hour" ? "hours" : "days"} with no calls left out)
            </summary>
            <Table data-testid={`${testId}-table`}>
              <TableHeader>
                <TableRow>
                  <TableHead>{unitName}</TableHead>
                  {lines.map((l) => (
                    <TableHead key={l.key} className="text-right">
                      {l.name}
                    </TableHead>
                  ))}
                  <TableHead className="text-right">All data keys</TableHead>
                  <TableHead className="text-right">All calls</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {shown.map((b) => (
                  <TableRow key={b.at}>
                    <TableCell className="whitespace-nowrap">{bucketLabel(series.unit, b.at)}</TableCell>
                    {lines.map((l) => (
                      <TableCell key={l.key} className="text-right tabular-nums">
                        {formatCount(l.value(b, metric))}
                      </TableCell>
                    ))}
                    <TableCell className="text-right tabular-nums">{formatCount(b.total.items)}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatCount(b.total.events)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </details>
        </>
      )}
    </figure>
  );
}
