import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { CopyButton } from "@/components/copy-button";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { vendorIamCommand, vendorIamPolicy } from "@/lib/keys";
import { getKms } from "@/lib/kms";
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
  const { vendorPrincipalArn, partition } = getKms();
  const iamPolicy = vendorIamPolicy(partition);

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
                      {tenant.vendorSideFailure ? (
                        <Badge variant="destructive" className="ml-1" data-testid="tenant-vendor-failure" title="The tenant's last verification failed on your side: see Custody's AWS role below.">
                          verify failed: your IAM policy
                        </Badge>
                      ) : null}
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
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Custody's AWS role"
            description="Customers' keys live in their own AWS accounts. For a call across accounts AWS requires both the customer's key policy (or grant) and this role's own IAM policy to allow it. Attach this least-privilege policy to the role in your account: exactly the calls Custody makes, the cryptographic ones only with Custody's tenant encryption context."
            actions={<CopyButton value={iamPolicy} label="Copy policy" />}
          />
          <p className="font-mono text-xs break-all" data-testid="vendor-role-arn">{vendorPrincipalArn}</p>
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs" data-testid="vendor-iam-policy">{iamPolicy}</pre>
          <p className="text-sm text-muted-foreground">
            Save it as custody-kms-policy.json and, in your account: <code className="font-mono text-xs">{vendorIamCommand(vendorPrincipalArn)}</code>.
            A tenant whose verification failed because this policy is missing shows &ldquo;verify failed: your IAM policy&rdquo; above.
          </p>
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
