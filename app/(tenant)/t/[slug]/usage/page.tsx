import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatCount } from "@/components/usage/format";
import { FreshnessNote, PeriodSummary, totalsOf } from "@/components/usage/summary";
import { TimeSeriesChart } from "@/components/usage/time-series-chart";
import { TopChart } from "@/components/usage/top-chart";
import { getTenantUsage } from "@/lib/audit/usage";
import { loadTenantContext } from "../tenant-context";

export const metadata: Metadata = { title: "Usage" };

const ACTOR_KIND = { user: "tenant member", vendor_admin: "vendor admin", service: "service credential", system: "Custody" } as const;

export default async function UsagePage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const usage = await getTenantUsage(caller, tenant.id);

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Usage"
            description="How the vendor's application uses this tenant's key, counted from the audit trail. Charts count data keys by default: a batch call counts once for each data key it wrapped or unwrapped, a single call once. Any chart can switch to counting calls. Times are UTC."
          />
          <FreshnessNote {...usage.freshness} />
          <PeriodSummary title="Last 24 hours" totals={totalsOf(usage.hourly, 24)} testId="usage-24h" />
          <PeriodSummary title="Last 30 days" totals={totalsOf(usage.daily)} testId="usage-30d" />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <TimeSeriesChart
            title="Key operations per hour, last 48 hours"
            description="Wraps, unwraps, batches and rekeys by the vendor's application, including refused and failed attempts."
            series={usage.hourly}
            views={["action", "outcome"]}
            empty="Each wrap, unwrap, batch and rekey the vendor's application asks for will appear here, hour by hour."
            testId="usage-hourly"
          />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <TimeSeriesChart
            title="Key operations per day, last 30 days"
            description="The same operations, day by day (UTC days)."
            series={usage.daily}
            views={["action", "outcome"]}
            empty="Once the vendor's application uses this tenant's key, its daily use will appear here."
            testId="usage-daily"
          />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <TimeSeriesChart
            title="Refusals and failures, last 30 days"
            description="Refused: Custody said no (access revoked, a credential without the scope, no verified key, a data key that does not belong here). Failed: the KMS could not be used (unreachable, throttled, denied)."
            series={usage.daily}
            views={["refusals"]}
            empty="Nothing has been refused or has failed in the last 30 days. Every refused or failed call would appear here."
            testId="usage-refusals"
          />
        </CardContent>
      </Card>

      <div className="grid gap-6 xl:grid-cols-2">
        <Card>
          <CardContent className="pt-6">
            <TopChart
              title="Top data labels, last 30 days"
              description="The labels the application gives its data keys. A batch mixing labels counts as a call for each label; its data keys cannot be split by label and are not in the data-key figure."
              rows={usage.labels.map((l) => ({ key: l.label, name: l.label, events: l.events, items: l.items, denied: l.denied }))}
              nameHeader="Data label"
              empty="The data labels of wrap and unwrap calls (for example invoices or patient-notes) will be ranked here."
              testId="usage-labels"
            />
          </CardContent>
        </Card>
        <Card>
          <CardContent className="pt-6">
            <TopChart
              title="Top services, last 30 days"
              description="The vendor's service credentials that used this tenant's key, by name."
              rows={usage.services.map((a) => ({ key: a.id, name: a.label, detail: ACTOR_KIND[a.type], events: a.events, items: a.items, denied: a.denied }))}
              nameHeader="Service credential"
              empty="Each service credential that calls the key service for this tenant will be ranked here."
              testId="usage-services"
              color="#E69F00"
            />
          </CardContent>
        </Card>
      </div>

      <Card>
        <CardContent className="pt-6">
          <TopChart
            title="Most active people, last 30 days"
            description="Members and vendor admins, by the events they caused in this tenant's trail: sign-ins, changes, and refused attempts."
            rows={usage.people.map((a) => ({ key: `${a.type}:${a.id}:${a.label}`, name: a.label || "unknown person", detail: ACTOR_KIND[a.type], events: a.events, items: a.items, denied: a.denied }))}
            nameHeader="Person"
            empty="People who sign in to this tenant or change it will be ranked here."
            testId="usage-people"
            color="#009E73"
            eventsOnly
          />
        </CardContent>
      </Card>

      <Card>
        <CardContent className="pt-6">
          <PageHeader
            as="h3"
            title="Last use per key"
            description="Each tenant key Custody keeps for this tenant (one per verification of a KMS key), the KMS key that protects it, and its successful calls."
          />
          {usage.keys.length === 0 ? (
            <EmptyState title="No tenant keys yet" description="Once a KMS key is registered and verified on the Keys page, its tenant key and when it was last used will appear here." />
          ) : (
            <Table data-testid="usage-keys">
              <TableHeader>
                <TableRow>
                  <TableHead>Tenant key</TableHead>
                  <TableHead>KMS key</TableHead>
                  <TableHead className="text-right">Successful calls</TableHead>
                  <TableHead>Last used</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {usage.keys.map((k) => (
                  <TableRow key={k.tenantKeyId} data-testid="usage-key-row" data-kms-key-id={k.kmsKeyId}>
                    <TableCell>
                      <div className="font-mono text-xs">
                        v{k.version} · {k.tenantKeyId.slice(0, 8)}
                      </div>
                      <div className="text-xs text-muted-foreground">
                        created <LocalTime value={k.createdAt} />
                      </div>
                      {k.status === "revoked" ? <Badge variant="destructive">revoked</Badge> : null}
                      {k.retired ? <Badge variant="destructive">retired</Badge> : null}
                    </TableCell>
                    <TableCell className="max-w-md">
                      <div className="text-xs text-muted-foreground">{k.providerLabel}{k.location ? ` · ${k.location}` : ""}</div>
                      <div className="font-mono text-xs break-all">{k.keyRef}</div>
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="usage-key-calls">
                      {formatCount(k.events)}
                    </TableCell>
                    <TableCell className="text-sm" data-testid="usage-key-last-used">
                      {k.lastUsedAt ? <LocalTime value={k.lastUsedAt} withSeconds /> : "never"}
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
          <PageHeader as="h3" title="Other activity, last 30 days" description="Events in this tenant's trail besides key operations: sign-ins, member and key changes, leases of the tenant key from the KMS." />
          {usage.activity.length === 0 ? (
            <EmptyState title="Nothing yet" description="Sign-ins and changes to this tenant will be counted here." />
          ) : (
            <Table data-testid="usage-activity">
              <TableHeader>
                <TableRow>
                  <TableHead>Action</TableHead>
                  <TableHead className="text-right">Succeeded</TableHead>
                  <TableHead className="text-right">Refused</TableHead>
                  <TableHead className="text-right">Failed</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {usage.activity.map((a) => (
                  <TableRow key={a.action}>
                    <TableCell className="font-mono text-xs">{a.action}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatCount(a.success)}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatCount(a.denied)}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatCount(a.failure)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </CardContent>
      </Card>
    </div>
  );
}
