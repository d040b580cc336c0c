import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { listTenants } from "@/lib/tenants";
import { CreateTenantForm } from "./_components/create-tenant-form";

export const metadata: Metadata = { title: "Tenants" };

const KEY_STATE = {
  none: { label: "no key yet", variant: "outline" },
  pending: { label: "pending verification", variant: "warning" },
  active: { label: "active", variant: "success" },
  error: { label: "error", variant: "destructive" },
  revoked: { label: "revoked by tenant", variant: "destructive" },
} as const;

export default async function VendorTenantsPage() {
  const principal = await requireVendorAdmin();
  const tenants = await listTenants(await callerFor(principal));

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="All tenants"
            description="Your customers on Custody. You see their health, never their key material; everything you do to a tenant appears in its audit trail."
          />
          {tenants.length === 0 ? (
            <EmptyState title="No tenants yet" description="Create the first one below." />
          ) : (
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead>Tenant</TableHead>
                  <TableHead>Key</TableHead>
                  <TableHead>Admins</TableHead>
                  <TableHead className="text-right">Members</TableHead>
                  <TableHead>Created</TableHead>
                  <TableHead>Last activity</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {tenants.map((tenant) => (
                  <TableRow key={tenant.id} data-testid="tenant-row" data-slug={tenant.slug}>
                    <TableCell className="max-w-xs break-words">
                      <div className="font-medium">{tenant.name}</div>
                      <div className="font-mono text-xs text-muted-foreground">{tenant.slug}</div>
                    </TableCell>
                    <TableCell>
                      <Badge variant={KEY_STATE[tenant.keyState].variant} data-testid="tenant-key-state">
                        {KEY_STATE[tenant.keyState].label}
                      </Badge>
                    </TableCell>
                    <TableCell className="text-sm">{tenant.adminEmails.join(", ") || "—"}</TableCell>
                    <TableCell className="text-right tabular-nums">{tenant.memberCount}</TableCell>
                    <TableCell className="text-sm text-muted-foreground">
                      <LocalTime value={tenant.createdAt} />
                    </TableCell>
                    <TableCell className="text-sm text-muted-foreground">
                      {tenant.lastActivityAt ? <LocalTime value={tenant.lastActivityAt} /> : "—"}
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
          <PageHeader
            title="Create a tenant"
            description="Onboard a customer: name it and invite its first admin, who then signs in with SSO and registers their KMS key."
          />
          <CreateTenantForm />
        </CardContent>
      </Card>
    </div>
  );
}
