import Link from "next/link";
import { OUTCOME_VARIANT } from "@/components/audit-table";
import { CopyButton } from "@/components/copy-button";
import { LocalTime } from "@/components/local-time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { actionLabel } from "@/lib/audit/catalogue";
import type { AuditEvent } from "@/lib/db/generated/client";

// The request metadata a key-service call carries, named as a person reads it; any other
// detail is listed under its own key.
const DETAIL_NAMES: Record<string, string> = {
  onBehalfOf: "On behalf of",
  dataLabel: "Data label",
  dataLabels: "Data labels",
  objectId: "Object id",
  objectIds: "Object ids",
  reason: "Reason",
  code: "Error code",
  custodyRequestId: "Custody request id",
  tenantKeyId: "Tenant key",
  tenantKeyIds: "Tenant keys",
  items: "Items",
  failedItems: "Failed items",
};

function Row({ name, children }: { name: string; children: React.ReactNode }) {
  return (
    <div className="grid gap-1 py-1.5 sm:grid-cols-[12rem_1fr]">
      <dt className="text-xs font-medium text-muted-foreground">{name}</dt>
      <dd className="min-w-0 text-sm break-words">{children}</dd>
    </div>
  );
}

function Mono({ value }: { value: string | null | undefined }) {
  return value ? <span className="font-mono text-xs">{value}</span> : <span className="text-muted-foreground">—</span>;
}

function detailValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(String).join(", ");
  if (value === null) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Everything one event holds: who, what, on which target, the request it came with, and its
 * place in the hash chain (hash and previous hash), with links to its neighbours.
 */
export function AuditEventDetail({ event, hrefFor, closeHref }: { event: AuditEvent; hrefFor: (seq: bigint) => string; closeHref: string }) {
  const details = event.details && typeof event.details === "object" && !Array.isArray(event.details) ? event.details : {};
  return (
    <section aria-labelledby="audit-event-title" data-testid="audit-event-detail" className="mb-4 rounded-md border border-border p-4">
      <div className="mb-2 flex flex-wrap items-start justify-between gap-3">
        <div>
          <h3 id="audit-event-title" className="text-base font-semibold">
            Event #{event.seq.toString()}: {actionLabel(event.action)}
          </h3>
          <p className="text-xs text-muted-foreground">
            <LocalTime value={event.occurredAt} withSeconds /> · <span className="font-mono">{event.occurredAt.toISOString()}</span>
          </p>
        </div>
        <div className="flex gap-2">
          {event.seq > 1n ? (
            <Button asChild variant="outline" size="sm">
              <Link href={hrefFor(event.seq - 1n)}>← Previous in chain</Link>
            </Button>
          ) : null}
          <Button asChild variant="outline" size="sm">
            <Link href={hrefFor(event.seq + 1n)}>Next in chain →</Link>
          </Button>
          <Button asChild variant="ghost" size="sm">
            <Link href={closeHref}>Close</Link>
          </Button>
        </div>
      </div>
      <dl className="divide-y divide-border">
        <Row name="Action">
          {actionLabel(event.action)} <span className="font-mono text-xs text-muted-foreground">{event.action}</span>
        </Row>
        <Row name="Outcome">
          <Badge variant={OUTCOME_VARIANT[event.outcome]}>{event.outcome.toLowerCase()}</Badge>
        </Row>
        <Row name="Actor">
          {event.actorLabel ?? "—"} <span className="text-xs text-muted-foreground">({event.actorType.toLowerCase().replace("_", " ")})</span>
          {event.actorId ? (
            <div>
              <Mono value={event.actorId} />
            </div>
          ) : null}
        </Row>
        <Row name="Target">
          {event.targetType ? (
            <>
              {event.targetType.replace("_", " ")} <Mono value={event.targetId} />
            </>
          ) : (
            "—"
          )}
        </Row>
        <Row name="Source IP">
          <Mono value={event.sourceIp} />
        </Row>
        <Row name="User agent">{event.userAgent ?? "—"}</Row>
        <Row name="Request id">
          <Mono value={event.requestId} />
        </Row>
        {Object.entries(details).map(([key, value]) => (
          <Row key={key} name={DETAIL_NAMES[key] ?? key}>
            {detailValue(value)}
          </Row>
        ))}
        <Row name="Chain position">
          Event {event.seq.toString()} of chain <Mono value={event.chain} />
        </Row>
        <Row name="Hash">
          <span className="font-mono text-xs break-all" data-testid="audit-event-hash">
            {event.hash}
          </span>{" "}
          <CopyButton value={event.hash} size="sm" variant="ghost" label="Copy" />
        </Row>
        <Row name="Previous hash">
          <span className="font-mono text-xs break-all">{event.prevHash}</span>
        </Row>
      </dl>
    </section>
  );
}
