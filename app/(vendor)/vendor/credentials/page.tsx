import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { listServiceCredentials } from "@/lib/credentials";
import { listTenants } from "@/lib/tenants";
import { CreateCredentialForm } from "./_components/create-credential-form";
import { CredentialActions } from "./_components/credential-actions";

export const metadata: Metadata = { title: "Service credentials" };

export default async function CredentialsPage() {
  const principal = await requireVendorAdmin();
  const caller = await callerFor(principal);
  const [credentials, tenants] = await Promise.all([listServiceCredentials(caller), listTenants(caller)]);
  const activeByName = new Map<string, number>();
  for (const c of credentials) {
    if (c.status === "active") activeByName.set(c.name.toLowerCase(), (activeByName.get(c.name.toLowerCase()) ?? 0) + 1);
  }

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Service credentials"
            description="What your application presents to Custody's key service. Each token is shown once and stored only as a hash. Rotate to get a second token under the same name; both work until you revoke the old one. Actions on a tenant-restricted credential also appear in that tenant's audit trail."
          />
          {credentials.length === 0 ? (
            <EmptyState title="No service credentials yet" description="Create one below for your application." />
          ) : (
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead>Name</TableHead>
                  <TableHead>Scopes</TableHead>
                  <TableHead>Tenant</TableHead>
                  <TableHead>Created</TableHead>
                  <TableHead>Last used</TableHead>
                  <TableHead>Status</TableHead>
                  <TableHead className="text-right">
                    <span className="sr-only">Actions</span>
                  </TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {credentials.map((c) => (
                  <TableRow key={c.id} data-testid="credential-row" data-id={c.id} data-name={c.name} data-status={c.status}>
                    <TableCell className="max-w-xs min-w-44 break-words">
                      <div className="font-medium">{c.name}</div>
                      <div className="font-mono text-xs text-muted-foreground" data-testid="credential-prefix">
                        {c.tokenPrefix}
                      </div>
                      {c.rotatedFrom ? (
                        <div className="text-xs text-muted-foreground" data-testid="credential-rotated-from">
                          rotated from <span className="font-mono">{c.rotatedFrom.tokenPrefix}</span>
                        </div>
                      ) : null}
                    </TableCell>
                    <TableCell>
                      <div className="flex flex-wrap gap-1">
                        {c.scopes.map((s) => (
                          <Badge key={s} variant="secondary" className="font-mono">
                            {s}
                          </Badge>
                        ))}
                      </div>
                    </TableCell>
                    <TableCell className="min-w-32 text-sm break-words">
                      {c.tenant ? (
                        <>
                          <div>{c.tenant.name}</div>
                          <div className="font-mono text-xs text-muted-foreground">{c.tenant.slug}</div>
                          <div className="font-mono text-xs break-all text-muted-foreground" title="The tenant id the key service's calls name">
                            {c.tenant.id}
                          </div>
                        </>
                      ) : (
                        <span className="text-muted-foreground">All tenants</span>
                      )}
                    </TableCell>
                    <TableCell className="text-sm">
                      <div className="text-muted-foreground">
                        <LocalTime value={c.createdAt} />
                      </div>
                      <div className="text-xs text-muted-foreground">by {c.createdBy}</div>
                    </TableCell>
                    <TableCell className="text-sm text-muted-foreground" data-testid="credential-last-used">
                      {c.lastUsedAt ? <LocalTime value={c.lastUsedAt} withSeconds /> : "never"}
                    </TableCell>
                    <TableCell>
                      {c.status === "active" ? (
                        <Badge variant="success" data-testid="credential-status">
                          active
                        </Badge>
                      ) : (
                        <>
                          <Badge variant="destructive" data-testid="credential-status">
                            revoked
                          </Badge>
                          <div className="mt-1 text-xs text-muted-foreground">
                            <LocalTime value={c.revokedAt!} />
                            {c.revokedBy ? ` by ${c.revokedBy}` : ""}
                          </div>
                        </>
                      )}
                    </TableCell>
                    <TableCell className="text-right">
                      {c.status === "active" ? (
                        <CredentialActions
                          credentialId={c.id}
                          name={c.name}
                          tokenPrefix={c.tokenPrefix}
                          tenantName={c.tenant?.name ?? null}
                          hasActiveTwin={(activeByName.get(c.name.toLowerCase()) ?? 0) > 1}
                        />
                      ) : null}
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
            title="Create a credential"
            description="Give it a name that says what uses it, only the scopes that application needs, and a tenant if it serves only one."
          />
          <CreateCredentialForm tenants={tenants.map((t) => ({ id: t.id, name: t.name, slug: t.slug }))} />
        </CardContent>
      </Card>
    </div>
  );
}
