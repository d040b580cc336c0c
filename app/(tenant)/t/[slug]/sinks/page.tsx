import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { listSinks, MAX_SINKS_PER_TENANT } from "@/lib/sinks";
import { sinkKindForms } from "@/lib/sinks/kinds";
import { loadTenantContext } from "../tenant-context";
import { HealthBadge } from "./_components/health-badge";
import { SinkActions } from "./_components/sink-actions";
import { SinkForm } from "./_components/sink-form";
import { healthReason, SinkStatusDetails } from "./_components/sink-status";
import { WebhookVerification } from "./_components/webhook-verification";

export const metadata: Metadata = { title: "Log sinks" };

export default async function SinksPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const sinks = await listSinks(caller, tenant.id);
  const isAdmin = tenant.role === "admin";
  const base = `/t/${tenant.slug}/sinks`;

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Log sinks"
            description="Every audit event of this tenant, streamed to your SIEM: signed webhooks, syslog (RFC 5424 over TCP or TLS) or Splunk HEC. Delivery is at least once, in order, retried until the receiver takes it."
          />
          {isAdmin ? null : <p className="text-sm text-muted-foreground">You are an auditor: you can see the sinks and their state but not change them.</p>}
          {sinks.length === 0 ? (
            <EmptyState
              title="No log sinks yet"
              description={
                <>
                  A log sink sends this tenant&apos;s audit events to a system of yours as they happen. A new sink receives the events from its creation
                  on (its own &ldquo;Log sink added&rdquo; event first); the earlier trail stays available from the Audit trail&apos;s export.
                  {isAdmin ? " Add one below." : " A tenant admin adds them."}
                </>
              }
            />
          ) : (
            <ul className="space-y-4">
              {sinks.map((sink) => (
                <li key={sink.id} data-testid="sink-row" data-name={sink.name} className="space-y-3 rounded-lg border border-border p-4">
                  <div className="flex flex-wrap items-baseline justify-between gap-2">
                    <div className="flex flex-wrap items-center gap-2">
                      <Link href={`${base}/${sink.id}`} className="font-semibold text-primary hover:underline">
                        {sink.name}
                      </Link>
                      <span className="text-xs text-muted-foreground">{sink.kindLabel}</span>
                      <HealthBadge health={sink.status.health} />
                    </div>
                    <Link href={`${base}/${sink.id}`} className="text-sm text-primary hover:underline">
                      {isAdmin ? "Details and edit" : "Details"}
                    </Link>
                  </div>
                  <p className="text-sm text-muted-foreground" data-testid="sink-health-reason">
                    {healthReason(sink)}
                  </p>
                  <SinkStatusDetails sink={sink} />
                  {isAdmin ? (
                    <SinkActions
                      tenantId={tenant.id}
                      sinkId={sink.id}
                      name={sink.name}
                      enabled={sink.enabled}
                      failedEvents={sink.status.failed.events}
                      queuedEvents={sink.status.backlog.queuedEvents}
                    />
                  ) : null}
                </li>
              ))}
            </ul>
          )}
          <WebhookVerification />
        </CardContent>
      </Card>
      {isAdmin ? (
        <Card>
          <CardContent className="pt-6">
            <PageHeader
              title="Add a log sink"
              description={`Up to ${MAX_SINKS_PER_TENANT} per tenant. Webhooks get a generated signing secret, shown once; HEC tokens are stored encrypted and never shown again.`}
            />
            <SinkForm tenantId={tenant.id} slug={tenant.slug} kinds={sinkKindForms()} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
