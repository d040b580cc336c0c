import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/components/empty-state";
import { KmsProviderIcon } from "@/components/kms-provider-icon";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { getConfig } from "@/lib/config";
import { listKmsKeys } from "@/lib/keys";
import { rotationOverview } from "@/lib/keys/rotation";
import { KMS_PROVIDERS, kmsProviderChoices } from "@/lib/kms";
import { loadTenantContext } from "../tenant-context";
import { AccessPanel } from "./_components/access-panel";
import { KeyStatusBadge } from "./_components/key-status-badge";
import { RegisterKeyForm } from "./_components/register-key-form";
import { RotationPanel } from "./_components/rotation-panel";

export const metadata: Metadata = { title: "Keys" };

export default async function KeysPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const overview = await listKmsKeys(caller, tenant.id);
  const rotation = await rotationOverview(caller, tenant.id);
  const showRotation = rotation.stillWrapping.length > 0 || rotation.rotation !== null || rotation.retirable.length > 0;
  const isAdmin = tenant.role === "admin";
  const primary = overview.keys.find((key) => key.isPrimary) ?? overview.keys[0];
  const makeFinal =
    (primary && KMS_PROVIDERS[primary.ref.provider].revocation.makeFinal) || "disable the key in your KMS or remove Custody's access to it";

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader title="Vendor access" description="Whether the vendor's application may use your key to wrap and unwrap your data keys." />
          <AccessPanel
            tenantId={tenant.id}
            tenantName={tenant.name}
            tenantSlug={tenant.slug}
            canChange={isAdmin}
            hasPrimary={overview.primaryKmsKeyId !== null}
            revokedAt={overview.accessRevokedAt?.toISOString() ?? null}
            revokedBy={overview.accessRevokedBy}
            makeFinal={makeFinal}
          />
        </CardContent>
      </Card>
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="Your KMS keys"
            description="Keys in your own KMS that protect this tenant's data. Custody never sees their material: it asks your KMS to wrap and unwrap."
            actions={
              <Link href={`/t/${tenant.slug}/keys/versions`} className="text-sm text-primary hover:underline">
                Tenant key versions and rotation
              </Link>
            }
          />
          {overview.keys.length === 0 ? (
            <EmptyState title="No key registered yet" description={isAdmin ? "Register your KMS key below." : "A tenant admin registers the key."} />
          ) : (
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead>Key</TableHead>
                  <TableHead>KMS</TableHead>
                  <TableHead>State</TableHead>
                  <TableHead>Last verified</TableHead>
                  <TableHead>Last used</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {overview.keys.map((key) => (
                  <TableRow key={key.id} data-testid="key-row" data-key-ref={key.keyRef} data-provider={key.provider}>
                    <TableCell className="max-w-md">
                      <Link href={`/t/${tenant.slug}/keys/${key.id}`} className="font-mono text-xs break-all text-primary hover:underline">
                        {key.keyRef}
                      </Link>
                      {key.lastError ? <div className="mt-1 text-xs text-destructive">{key.lastError}</div> : null}
                    </TableCell>
                    <TableCell className="text-sm whitespace-nowrap" data-testid="key-provider">
                      <span className="inline-flex items-center gap-1.5">
                        <KmsProviderIcon icon={KMS_PROVIDERS[key.ref.provider].display.icon} />
                        {key.providerLabel}
                      </span>
                      {key.location ? <div className="text-xs text-muted-foreground">{key.location}</div> : null}
                    </TableCell>
                    <TableCell>
                      <KeyStatusBadge keyView={key} />
                    </TableCell>
                    <TableCell className="text-sm text-muted-foreground">
                      {key.lastVerifiedAt ? <LocalTime value={key.lastVerifiedAt} /> : "never"}
                    </TableCell>
                    <TableCell className="text-sm text-muted-foreground">
                      {key.lastUsedAt ? <LocalTime value={key.lastUsedAt} /> : "never"}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </CardContent>
      </Card>
      {showRotation ? (
        <Card>
          <CardContent className="pt-6">
            <PageHeader
              title="Key rotation"
              description="After a new key becomes primary, re-wrap the tenant keys older keys still wrap, then retire the old key."
            />
            <RotationPanel tenantId={tenant.id} canChange={isAdmin} {...rotation} />
          </CardContent>
        </Card>
      ) : null}
      {isAdmin ? (
        <Card>
          <CardContent className="pt-6">
            <PageHeader
              title="Register a key"
              description="A new key becomes the primary for new data once verified; earlier keys keep unwrapping the data they protect."
            />
            <RegisterKeyForm tenantId={tenant.id} slug={tenant.slug} providers={kmsProviderChoices(getConfig())} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
