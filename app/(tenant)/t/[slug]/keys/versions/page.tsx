import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { listTenantKeyVersions, type TenantKeyVersion } from "@/lib/keys";
import { loadTenantContext } from "../../tenant-context";
import { RetireVersionForm, RotateNowForm, RotationScheduleForm } from "../_components/rotation-forms";

export const metadata: Metadata = { title: "Tenant key versions" };

const STATE_BADGE: Record<TenantKeyVersion["state"], { label: string; variant: "success" | "secondary" | "destructive" | "warning" }> = {
  current: { label: "current", variant: "success" },
  active: { label: "unwraps only", variant: "secondary" },
  retired: { label: "retired", variant: "destructive" },
  revoked: { label: "revoked", variant: "warning" },
};

export default async function TenantKeyVersionsPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const data = await listTenantKeyVersions(caller, tenant.id);
  const isAdmin = tenant.role === "admin";
  const canRotate = isAdmin && data.hasPrimary && !data.accessRevoked;

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6 space-y-4">
          <PageHeader
            title="Tenant key versions"
            description="The key Custody wraps your data keys under, made by your KMS key. A new version becomes current for new data at once; older versions keep unwrapping until you retire them."
          />
          <p className="text-sm text-muted-foreground">
            <Link href={`/t/${tenant.slug}/keys`} className="text-primary underline underline-offset-4">
              Back to your KMS keys
            </Link>
            {" · "}Counts from the usage rollups
            {data.freshness.countedThrough ? (
              <>
                {" "}through <LocalTime value={data.freshness.countedThrough} withSeconds />
              </>
            ) : null}
            {data.freshness.pending > 0 ? ` (${data.freshness.pending} newer events still being counted)` : ""}.
          </p>
          {data.versions.length === 0 ? (
            <EmptyState title="No tenant key yet" description="Verifying your first KMS key makes version v1." />
          ) : (
            <Table data-testid="versions-table">
              <TableHeader>
                <TableRow>
                  <TableHead>Version</TableHead>
                  <TableHead>Created</TableHead>
                  <TableHead>Wrapped by KMS key</TableHead>
                  <TableHead className="text-right">Wraps</TableHead>
                  <TableHead className="text-right">Unwraps</TableHead>
                  <TableHead className="text-right">Rekeyed away</TableHead>
                  <TableHead>Last use</TableHead>
                  <TableHead>State</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {data.versions.map((v) => (
                  <TableRow key={v.tenantKeyId} data-testid="version-row" data-version={v.version} data-state={v.state}>
                    <TableCell className="font-mono">v{v.version}</TableCell>
                    <TableCell className="text-sm text-muted-foreground">
                      <LocalTime value={v.createdAt.toISOString()} />
                    </TableCell>
                    <TableCell className="max-w-xs">
                      <Link href={`/t/${tenant.slug}/keys/${v.kmsKeyId}`} className="font-mono text-xs break-all text-primary hover:underline">
                        {v.keyRef}
                      </Link>
                      <div className="text-xs text-muted-foreground">{v.providerLabel}</div>
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="wraps" title={`${v.rekeysTo} of them re-keyed onto it`}>
                      {v.wraps}
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="unwraps">
                      {v.unwraps}
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="rekeys">
                      {v.rekeysFrom}
                    </TableCell>
                    <TableCell className="text-sm text-muted-foreground">{v.lastUsedAt ? <LocalTime value={v.lastUsedAt.toISOString()} /> : "never"}</TableCell>
                    <TableCell>
                      <Badge variant={STATE_BADGE[v.state].variant}>{STATE_BADGE[v.state].label}</Badge>
                      {v.retiredAt ? (
                        <div className="text-xs text-muted-foreground">
                          since <LocalTime value={v.retiredAt.toISOString()} />
                        </div>
                      ) : null}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </CardContent>
      </Card>
      {isAdmin ? (
        <Card>
          <CardContent className="pt-6 space-y-6">
            <PageHeader
              title="Rotate"
              description="Makes a new version under your primary KMS key (one call to your KMS). Every key-service instance wraps under it at once; rekey moves existing EDEKs onto it."
            />
            {canRotate ? (
              <RotateNowForm tenantId={tenant.id} />
            ) : (
              <p className="text-sm text-muted-foreground">{data.accessRevoked ? "Vendor access is revoked: restore it before rotating." : "Verify a KMS key first."}</p>
            )}
            <RotationScheduleForm tenantId={tenant.id} days={data.rotationDays} />
          </CardContent>
        </Card>
      ) : (
        <p className="text-sm text-muted-foreground" data-testid="rotation-schedule">
          Scheduled rotation: {data.rotationDays === null ? "off" : `every ${data.rotationDays} days`}. Tenant admins rotate and retire versions.
        </p>
      )}
      {isAdmin && data.versions.some((v) => v.state !== "current" && v.state !== "retired") ? (
        <Card>
          <CardContent className="pt-6 space-y-4">
            <PageHeader
              title="Retire an old version"
              description="A retired version unwraps nothing more: the key service answers key_version_retired for its EDEKs, and records each attempt as denied. Only a version that has not been used (and not been current) for the quiet period you choose can be retired. Retiring is final."
            />
            {data.versions
              .filter((v) => v.state !== "current" && v.state !== "retired")
              .map((v) => (
                <div key={v.tenantKeyId} className="space-y-2 border-t pt-4" data-testid="retire-version" data-version={v.version}>
                  <p className="text-sm">
                    <span className="font-mono">v{v.version}</span>:{" "}
                    {v.retirement.allowed ? "quiet for at least 30 days; it can be retired." : v.retirement.reason}
                  </p>
                  <RetireVersionForm tenantId={tenant.id} tenantKeyId={v.tenantKeyId} version={v.version} />
                </div>
              ))}
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
