import type { Metadata } from "next";
import Link from "next/link";
import { AuditTable } from "@/components/audit-table";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { listTenantEvents } from "@/lib/audit";
import { kmsRotationStatus } from "@/lib/fleet/kms-rotation";
import { listMembers } from "@/lib/tenants";
import { KmsRotationCard } from "./_components/kms-rotation-card";
import { loadTenantContext } from "./tenant-context";

export const metadata: Metadata = { title: "Overview" };

export default async function TenantOverviewPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const [members, recent, rotation] = await Promise.all([
    listMembers(caller, tenant.id),
    listTenantEvents(caller, tenant.id, { limit: 5 }),
    kmsRotationStatus(caller, tenant.id),
  ]);
  const admins = members.filter((m) => m.role === "admin").length;

  return (
    <div className="space-y-6">
      <div className="grid gap-4 sm:grid-cols-3">
        <Card>
          <CardHeader>
            <CardDescription>Your role</CardDescription>
            <CardTitle className="flex items-center gap-2">
              {tenant.role === "admin" ? "Tenant admin" : "Tenant auditor"}
              {tenant.role === "auditor" ? <Badge variant="secondary">read-only</Badge> : null}
            </CardTitle>
          </CardHeader>
        </Card>
        <Card>
          <CardHeader>
            <CardDescription>Members</CardDescription>
            <CardTitle>
              <Link className="hover:underline" href={`/t/${tenant.slug}/members`}>
                {members.length} ({admins} admin{admins === 1 ? "" : "s"})
              </Link>
            </CardTitle>
          </CardHeader>
        </Card>
        <Card>
          <CardHeader>
            <CardDescription>Tenant id (encryption context)</CardDescription>
            <CardTitle className="font-mono text-sm break-all" data-testid="tenant-id">
              {tenant.id}
            </CardTitle>
          </CardHeader>
        </Card>
      </div>
      <KmsRotationCard tenantId={tenant.id} slug={tenant.slug} status={rotation} canEdit={tenant.role === "admin"} />
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Recent activity"
            description="The latest events in this tenant's audit trail."
            actions={
              <Link className="text-sm font-medium text-primary hover:underline" href={`/t/${tenant.slug}/audit`}>
                Full audit trail →
              </Link>
            }
          />
          <AuditTable events={recent.events} compact />
        </CardContent>
      </Card>
    </div>
  );
}
