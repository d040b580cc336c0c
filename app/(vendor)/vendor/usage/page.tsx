import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatCount, formatPercent } from "@/components/usage/format";
import { FreshnessNote, PeriodSummary, totalsOf } from "@/components/usage/summary";
import { TimeSeriesChart } from "@/components/usage/time-series-chart";
import { getVendorUsage } from "@/lib/audit/usage";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";

export const metadata: Metadata = { title: "Vendor usage" };

export default async function VendorUsagePage() {
  const principal = await requireVendorAdmin();
  const usage = await getVendorUsage(await callerFor(principal));

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Usage across tenants"
            description="Counts of your application's key-service calls per tenant. Which data labels, people and records a tenant's calls concern stays in that tenant's own trail: it describes their data and staff, and you do not need it to see whether a tenant is healthy. Data keys: a batch counts once per data key. Times are UTC."
          />
          <FreshnessNote {...usage.freshness} />
          <PeriodSummary title="All tenants, last 24 hours" totals={totalsOf(usage.hourly, 24)} testId="vendor-usage-24h" />
          <PeriodSummary title="All tenants, last 30 days" totals={totalsOf(usage.daily)} testId="vendor-usage-30d" />
          <p className="text-sm text-muted-foreground" data-testid="vendor-chain-refusals">
            Calls refused before reaching any tenant (unknown tenant id, or a credential restricted to another tenant), last 30 days:{" "}
            <span className="font-medium text-foreground tabular-nums">{formatCount(usage.vendorChainRefusals30d)}</span>. They are in your own audit
            trail.
          </p>
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <PageHeader as="h3" title="Per tenant" description="Error rate: failed calls (the tenant's KMS unreachable, throttling, or refusing) as a share of all calls over 30 days. Refused calls are counted apart." />
          {usage.tenants.length === 0 ? (
            <EmptyState title="No tenants yet" description="Each tenant's key-service use will be listed here once it is onboarded." />
          ) : (
            <Table data-testid="vendor-usage-tenants">
              <TableHeader>
                <TableRow>
                  <TableHead>Tenant</TableHead>
                  <TableHead className="text-right">Data keys, 24 h</TableHead>
                  <TableHead className="text-right">Calls, 24 h</TableHead>
                  <TableHead className="text-right">Data keys, 30 d</TableHead>
                  <TableHead className="text-right">Calls, 30 d</TableHead>
                  <TableHead className="text-right">Refused, 30 d</TableHead>
                  <TableHead className="text-right">Error rate, 30 d</TableHead>
                  <TableHead>Last used</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {usage.tenants.map((t) => (
                  <TableRow key={t.tenantId} data-testid="vendor-usage-row" data-slug={t.slug}>
                    <TableCell className="max-w-xs break-words">
                      <div className="font-medium">{t.name}</div>
                      <div className="font-mono text-xs text-muted-foreground">{t.slug}</div>
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="items-24h">{formatCount(t.items24h)}</TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="calls-24h">{formatCount(t.calls24h)}</TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="items-30d">{formatCount(t.items30d)}</TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="calls-30d">{formatCount(t.calls30d)}</TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="refused-30d">{formatCount(t.refused30d)}</TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="error-rate-30d">{formatPercent(t.errorRate30d)}</TableCell>
                    <TableCell className="text-sm text-muted-foreground" data-testid="last-used">
                      {t.lastUsedAt ? <LocalTime value={t.lastUsedAt} /> : "never"}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <TimeSeriesChart
            title="All tenants: key operations per hour, last 48 hours"
            description="Every tenant's wraps, unwraps, batches and rekeys together, including refused and failed attempts."
            series={usage.hourly}
            views={["action", "outcome"]}
            empty="Your application's key-service calls for all tenants will appear here, hour by hour."
            testId="vendor-usage-hourly"
          />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <TimeSeriesChart
            title="All tenants: key operations per day, last 30 days"
            description="The same, day by day (UTC days)."
            series={usage.daily}
            views={["action", "outcome", "refusals"]}
            empty="Your application's key-service calls for all tenants will appear here, day by day."
            testId="vendor-usage-daily"
          />
        </CardContent>
      </Card>
    </div>
  );
}
