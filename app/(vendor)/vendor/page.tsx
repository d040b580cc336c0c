import type { Metadata } from "next";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { CopyButton } from "@/components/copy-button";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { parseFleetQuery } from "@/lib/fleet/fleet-query";
import { listFleet } from "@/lib/fleet/list-fleet";
import { getConfig } from "@/lib/config";
import { KmsProviderIcon } from "@/components/kms-provider-icon";
import { kmsProviders } from "@/lib/kms";
import { CreateTenantForm } from "./_components/create-tenant-form";
import { FleetTable } from "./_components/fleet-table";

export const metadata: Metadata = { title: "Tenants" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function VendorTenantsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requireVendorAdmin();
  const { query, ignored } = parseFleetQuery(await searchParams);
  const fleet = await listFleet(await callerFor(principal), query);
  const config = getConfig();
  const providers = kmsProviders().filter((provider) => provider.configured(config));

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="All tenants"
            description="Your customers on Custody, the ones needing attention first. You see their health, never their key material; everything you do to a tenant appears in its audit trail. Open a tenant for its admins and onboarding."
          />
          <FleetTable page={fleet} query={query} ignored={ignored} />
        </CardContent>
      </Card>
      {providers.map((provider) => (
        <Card key={provider.name}>
          <CardContent className="space-y-4 pt-6">
            <h2 className="flex items-center gap-2 text-lg font-semibold">
              <KmsProviderIcon icon={provider.display.icon} className="size-5" />
              {provider.display.label}: Custody&apos;s own set-up
            </h2>
            {provider.vendorSetup(config).map((block) => (
              <div key={block.id} className="space-y-2">
                <PageHeader as="h3" title={block.title} description={block.text} actions={block.code ? <CopyButton value={block.code} label="Copy" /> : undefined} />
                {block.code ? (
                  <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs whitespace-pre-wrap break-all" data-testid={block.id}>
                    {block.code}
                  </pre>
                ) : null}
              </div>
            ))}
          </CardContent>
        </Card>
      ))}
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
