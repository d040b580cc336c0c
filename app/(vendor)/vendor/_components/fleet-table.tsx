import Link from "next/link";
import { ArrowDownIcon, ArrowUpIcon } from "lucide-react";
import { CopyButton } from "@/components/copy-button";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { DEFAULT_DIRECTION, FLEET_PAGE_SIZE, FLEET_STATES, type FleetQuery, type FleetSort, type FleetState, fleetHref } from "@/lib/fleet/fleet-query";
import type { FleetPage, FleetRow } from "@/lib/fleet/list-fleet";
import { cn } from "@/lib/utils/cn";

export const FLEET_STATE_LABEL: Record<FleetState, { label: string; variant: "outline" | "warning" | "success" | "destructive" }> = {
  none: { label: "no key yet", variant: "outline" },
  pending: { label: "pending verification", variant: "warning" },
  active: { label: "active", variant: "success" },
  failing: { label: "verification failing", variant: "destructive" },
  revoked: { label: "revoked by tenant", variant: "destructive" },
};

const count = new Intl.NumberFormat("en");

function SortHeader({ query, sort, children, className }: { query: FleetQuery; sort: FleetSort; children: React.ReactNode; className?: string }) {
  const active = query.sort === sort;
  const direction = query.dir ?? DEFAULT_DIRECTION[query.sort];
  const next = active ? (direction === "asc" ? "desc" : "asc") : DEFAULT_DIRECTION[sort];
  const Arrow = direction === "asc" ? ArrowUpIcon : ArrowDownIcon;
  return (
    <TableHead aria-sort={active ? (direction === "asc" ? "ascending" : "descending") : undefined} className={className}>
      <Link href={fleetHref(query, { sort, dir: next, page: 1 })} className="inline-flex items-center gap-1 hover:underline">
        {children}
        {active ? <Arrow aria-hidden className="size-3" /> : null}
      </Link>
    </TableHead>
  );
}

function Problems({ row }: { row: FleetRow }) {
  const problems = [
    row.vendorSideFailure ? "verify failed: your IAM policy" : null,
    row.leaseFailures24h > 0 ? `${count.format(row.leaseFailures24h)} lease failures` : null,
    row.failingSinks > 0 ? `${row.failingSinks} failing log sink${row.failingSinks === 1 ? "" : "s"}` : null,
  ].filter((text): text is string => text !== null);
  return problems.map((text) => (
    <Badge key={text} variant="destructive" className="mt-1 mr-1" data-testid={text.startsWith("verify") ? "tenant-vendor-failure" : "tenant-problem"}>
      {text}
    </Badge>
  ));
}

/** The vendor's fleet: search, state filter, sortable columns and pages, all server-side. */
export function FleetTable({ page, query, ignored }: { page: FleetPage; query: FleetQuery; ignored: string[] }) {
  const first = (page.page - 1) * FLEET_PAGE_SIZE + 1;
  return (
    <div className="space-y-4">
      <form method="get" action="/vendor" role="search" className="flex flex-wrap items-end gap-2">
        <label className="grid min-w-48 flex-1 gap-1 text-sm font-medium">
          Search
          <Input name="q" defaultValue={query.q} placeholder="Name, URL name or tenant id" />
        </label>
        <label className="grid w-52 gap-1 text-sm font-medium">
          State
          <NativeSelect name="state" defaultValue={query.state ?? ""}>
            <option value="">All states</option>
            {FLEET_STATES.map((state) => (
              <option key={state} value={state}>
                {FLEET_STATE_LABEL[state].label}
              </option>
            ))}
          </NativeSelect>
        </label>
        <label className="grid w-52 gap-1 text-sm font-medium">
          KMS key rotation
          <NativeSelect name="rotation" defaultValue={query.rotation ?? ""}>
            <option value="">Any</option>
            <option value="overdue">Rotation overdue</option>
          </NativeSelect>
        </label>
        {query.sort !== "attention" ? <input type="hidden" name="sort" value={query.sort} /> : null}
        {query.dir ? <input type="hidden" name="dir" value={query.dir} /> : null}
        <Button type="submit" variant="outline">
          Show
        </Button>
        {query.q || query.state || query.rotation ? (
          <Button asChild variant="ghost">
            <Link href={fleetHref({ ...query, q: "", state: undefined, rotation: undefined, page: 1 })}>Clear</Link>
          </Button>
        ) : null}
      </form>
      {ignored.length > 0 ? (
        <p role="status" className="text-sm text-muted-foreground">
          Ignored a value the table does not understand ({ignored.join(", ")}); showing the default instead.
        </p>
      ) : null}
      {page.rows.length === 0 ? (
        <EmptyState
          title={page.total === 0 ? (query.q || query.state || query.rotation ? "No tenant matches" : "No tenants yet") : `There is no page ${page.page}`}
          description={
            page.total === 0
              ? query.q || query.state || query.rotation
                ? "Change the search or the filters."
                : "Create the first one below."
              : `The table has ${page.pageCount} page${page.pageCount === 1 ? "" : "s"}.`
          }
          action={
            page.total > 0 ? (
              <Button asChild variant="outline">
                <Link href={fleetHref(query, { page: page.pageCount })}>Go to the last page</Link>
              </Button>
            ) : undefined
          }
        />
      ) : (
        <Table data-testid="fleet-table">
          <TableHeader>
            <TableRow>
              <SortHeader query={query} sort="name">Tenant</SortHeader>
              <SortHeader query={query} sort="attention">Key</SortHeader>
              <SortHeader query={query} sort="last_verified">Last verified</SortHeader>
              <SortHeader query={query} sort="last_use">Last use</SortHeader>
              <SortHeader query={query} sort="operations" className="text-right">Calls, 24 h</SortHeader>
              <SortHeader query={query} sort="refusals" className="text-right">Refused, 24 h</SortHeader>
              <SortHeader query={query} sort="rotation">Rotation</SortHeader>
              <TableHead>Admins</TableHead>
              <TableHead className="text-right">Members</TableHead>
              <SortHeader query={query} sort="created">Created</SortHeader>
            </TableRow>
          </TableHeader>
          <TableBody>
            {page.rows.map((row) => (
              <TableRow
                key={row.id}
                data-testid="tenant-row"
                data-slug={row.slug}
                data-state={row.state}
                data-rotation={row.rotationOverdueDays === null ? "ok" : "overdue"}
                className={cn(
                  row.state === "revoked" || row.state === "failing"
                    ? "bg-destructive-muted/40"
                    : row.rotationOverdueDays !== null && "bg-warning-muted/60",
                )}
              >
                <TableCell className="max-w-xs break-words">
                  <Link href={`/vendor/tenants/${row.id}`} className="font-medium underline-offset-4 hover:underline">
                    {row.name}
                  </Link>
                  <div className="font-mono text-xs text-muted-foreground">{row.slug}</div>
                  <div className="flex items-center gap-1 font-mono text-xs text-muted-foreground">
                    <span className="break-all" data-testid="tenant-id">{row.id}</span>
                    <CopyButton value={row.id} label="Copy id" variant="ghost" size="sm" />
                  </div>
                </TableCell>
                <TableCell>
                  <Badge variant={FLEET_STATE_LABEL[row.state].variant} data-testid="tenant-key-state">
                    {FLEET_STATE_LABEL[row.state].label}
                  </Badge>
                  {row.provider ? (
                    <div className="mt-1 text-xs text-muted-foreground">
                      {[row.providerLabel ?? row.provider, row.location].filter(Boolean).join(" · ")}
                    </div>
                  ) : null}
                  <Problems row={row} />
                </TableCell>
                <TableCell className="text-sm text-muted-foreground">{row.lastVerifiedAt ? <LocalTime value={row.lastVerifiedAt} /> : "—"}</TableCell>
                <TableCell className="text-sm text-muted-foreground">{row.lastUsedAt ? <LocalTime value={row.lastUsedAt} /> : "—"}</TableCell>
                <TableCell className="text-right tabular-nums">{count.format(row.operations24h)}</TableCell>
                <TableCell className={cn("text-right tabular-nums", row.refusals24h > 0 && "text-destructive-text")}>{count.format(row.refusals24h)}</TableCell>
                <TableCell data-testid="tenant-rotation">
                  {row.rotationOverdueDays === null ? (
                    <span className="text-sm text-muted-foreground">—</span>
                  ) : (
                    <Badge variant="warning">overdue {row.rotationOverdueDays === 0 ? "since today" : `by ${count.format(row.rotationOverdueDays)} day${row.rotationOverdueDays === 1 ? "" : "s"}`}</Badge>
                  )}
                </TableCell>
                <TableCell className="text-sm">{row.adminEmails.join(", ") || "—"}</TableCell>
                <TableCell className="text-right tabular-nums">{row.memberCount}</TableCell>
                <TableCell className="text-sm text-muted-foreground">
                  <LocalTime value={row.createdAt} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {page.total > 0 ? (
        <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-2 text-sm text-muted-foreground">
          <span data-testid="fleet-range">
            {page.rows.length > 0 ? `${count.format(first)}–${count.format(first + page.rows.length - 1)} of ` : ""}
            {count.format(page.total)} tenant{page.total === 1 ? "" : "s"}
            {page.usageAsOf ? (
              <>
                {" "}· calls counted as of <LocalTime value={page.usageAsOf} />
              </>
            ) : null}
          </span>
          <span className="flex gap-2">
            {page.page > 1 ? (
              <Button asChild variant="outline" size="sm">
                <Link href={fleetHref(query, { page: Math.min(page.page - 1, page.pageCount) })}>Previous page</Link>
              </Button>
            ) : null}
            {page.page < page.pageCount ? (
              <Button asChild variant="outline" size="sm">
                <Link href={fleetHref(query, { page: page.page + 1 })}>Next page</Link>
              </Button>
            ) : null}
          </span>
        </nav>
      ) : null}
    </div>
  );
}
