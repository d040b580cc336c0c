import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { isAppError } from "@/lib/errors";
import { getSink, type SinkView } from "@/lib/sinks";
import { sinkKindForms } from "@/lib/sinks/kinds";
import { loadTenantContext } from "../../tenant-context";
import { HealthBadge } from "../_components/health-badge";
import { SinkActions } from "../_components/sink-actions";
import { SinkForm } from "../_components/sink-form";
import { healthReason, SinkStatusDetails } from "../_components/sink-status";
import { WebhookVerification } from "../_components/webhook-verification";

export const metadata: Metadata = { title: "Log sink" };

/** Another tenant's sink, or a malformed id, is simply not found here. */
async function loadSink(caller: Parameters<typeof getSink>[0], tenantId: string, sinkId: string): Promise<SinkView> {
  try {
    return await getSink(caller, tenantId, sinkId);
  } catch (error) {
    if (isAppError(error) && (error.code === "not_found" || error.code === "bad_request" || error.code === "forbidden")) notFound();
    throw error;
  }
}

export default async function SinkPage({ params }: { params: Promise<{ slug: string; sinkId: string }> }) {
  const { slug, sinkId } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const sink = await loadSink(caller, tenant.id, sinkId);
  const isAdmin = tenant.role === "admin";
  const list = `/t/${tenant.slug}/sinks`;

  return (
    <div className="space-y-6">
      <Link href={list} className="text-sm text-primary hover:underline">
        ← All log sinks
      </Link>
      <Card>
        <CardContent className="space-y-4 pt-6" data-testid="sink-row" data-name={sink.name}>
          <div className="flex flex-wrap items-center gap-2">
            <PageHeader title={sink.name} />
            <HealthBadge health={sink.status.health} />
          </div>
          <p className="text-sm text-muted-foreground" data-testid="sink-health-reason">
            {healthReason(sink)}
          </p>
          <SinkStatusDetails sink={sink} />
          <p className="text-xs text-muted-foreground">
            Added <LocalTime value={sink.createdAt} /> by {sink.createdBy ?? "a former member"}; last changed <LocalTime value={sink.updatedAt} /> by{" "}
            {sink.updatedBy ?? "a former member"}. {sink.hasSecret ? "A secret is stored (encrypted; never shown)." : null}
          </p>
          {isAdmin ? (
            <SinkActions
              tenantId={tenant.id}
              sinkId={sink.id}
              name={sink.name}
              enabled={sink.enabled}
              failedEvents={sink.status.failed.events}
              queuedEvents={sink.status.backlog.queuedEvents}
              afterDelete={list}
            />
          ) : (
            <p className="text-sm text-muted-foreground">You are an auditor: you can see this sink but not change it.</p>
          )}
        </CardContent>
      </Card>
      {isAdmin ? (
        <Card>
          <CardContent className="pt-6">
            <PageHeader title="Edit" description="Settings replace the current ones; filter changes apply to events not yet queued." />
            <SinkForm
              tenantId={tenant.id}
              slug={tenant.slug}
              kinds={sinkKindForms()}
              initial={{
                id: sink.id,
                name: sink.name,
                kind: sink.kind,
                settings: { ...sink.settings },
                filter: sink.filter,
              }}
            />
          </CardContent>
        </Card>
      ) : null}
      {/* A generated secret signs the deliveries: how a receiver checks them. */}
      {sink.secretHandling === "generated" ? <WebhookVerification /> : null}
    </div>
  );
}
