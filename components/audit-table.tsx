import Link from "next/link";
import { LocalTime } from "@/components/local-time";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { actionLabel } from "@/lib/audit/catalogue";
import type { AuditEvent } from "@/lib/db/generated/client";

const ACTOR_LABELS: Record<AuditEvent["actorType"], string> = {
  USER: "user",
  VENDOR_ADMIN: "vendor admin",
  SERVICE: "service",
  SYSTEM: "system",
};

export const OUTCOME_VARIANT = { SUCCESS: "success", DENIED: "destructive", FAILURE: "warning" } as const satisfies Record<
  AuditEvent["outcome"],
  string
>;

function describeDetails(details: AuditEvent["details"]): string {
  if (!details || typeof details !== "object" || Array.isArray(details)) return "";
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(" · ");
}

/**
 * Audit events as a table, newest first as given. With `detailQuery`, each event's time links to
 * its detail view (`?<detailQuery>&event=<seq>`), keeping the page's filter.
 */
export function AuditTable({ events, compact = false, detailQuery }: { events: AuditEvent[]; compact?: boolean; detailQuery?: string }) {
  if (events.length === 0) {
    return <p className="py-6 text-center text-sm text-muted-foreground">No events yet.</p>;
  }
  return (
    <Table>
      <TableHeader>
        <TableRow>
          <TableHead>Time</TableHead>
          <TableHead>Actor</TableHead>
          <TableHead>Action</TableHead>
          <TableHead>Outcome</TableHead>
          <TableHead>Details</TableHead>
          {compact ? null : <TableHead>Source</TableHead>}
        </TableRow>
      </TableHeader>
      <TableBody>
        {events.map((event) => (
          <TableRow key={event.id.toString()} data-testid="audit-row">
            <TableCell className="whitespace-nowrap">
              {detailQuery === undefined ? (
                <LocalTime value={event.occurredAt} withSeconds />
              ) : (
                <Link
                  href={`?${detailQuery ? `${detailQuery}&` : ""}event=${event.seq}`}
                  className="underline-offset-2 hover:underline"
                  aria-label={`Event ${event.seq}: details`}
                >
                  <LocalTime value={event.occurredAt} withSeconds />
                </Link>
              )}
            </TableCell>
            <TableCell>
              <div className="font-medium">{event.actorLabel ?? "—"}</div>
              <div className="text-xs text-muted-foreground">{ACTOR_LABELS[event.actorType]}</div>
            </TableCell>
            <TableCell>
              <div>{actionLabel(event.action)}</div>
              <div className="font-mono text-xs text-muted-foreground">{event.action}</div>
            </TableCell>
            <TableCell>
              <Badge variant={OUTCOME_VARIANT[event.outcome]}>
                {event.outcome.toLowerCase()}
              </Badge>
            </TableCell>
            <TableCell className="max-w-xs text-xs break-words text-muted-foreground">
              {describeDetails(event.details)}
            </TableCell>
            {compact ? null : (
              <TableCell className="text-xs text-muted-foreground">
                <div>{event.sourceIp ?? "—"}</div>
                <div className="max-w-48 truncate" title={event.userAgent ?? undefined}>
                  {event.userAgent ?? ""}
                </div>
                {event.requestId ? (
                  <div className="font-mono" title={`request id ${event.requestId}`}>
                    req {event.requestId.slice(0, 8)}
                  </div>
                ) : null}
              </TableCell>
            )}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
