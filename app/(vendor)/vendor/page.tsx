import type { Metadata } from "next";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { parseFleetQuery } from "@/lib/fleet/fleet-query";
import { fleetStampFor } from "@/lib/fleet/fleet-stamp";
import { listFleet } from "@/lib/fleet/list-fleet";
import { CreateTenantForm } from "./_components/create-tenant-form";
import { FleetLiveRefresh } from "./_components/fleet-live-refresh";
import { FleetTable } from "./_components/fleet-table";

export const metadata: Metadata = { title: "Tenants" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function VendorTenantsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requireVendorAdmin();
  const { query, ignored } = parseFleetQuery(await searchParams);
  const caller = await callerFor(principal);
  // The stamp before the rows: a change between the two makes the next poll differ and refresh.
  const stamp = await fleetStampFor(caller);
  const fleet = await listFleet(caller, query);

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="All tenants"
            description="Your customers on Custody, the ones needing attention first (revoked, failing and rotation overdue stand out). You see their health, never their key material; everything you do to a tenant appears in its audit trail. Open a tenant for its admins and onboarding. A verification refused by your side (Custody's AWS role) is yours to fix: see AWS role."
          />
          <FleetTable page={fleet} query={query} ignored={ignored} />
          <FleetLiveRefresh stamp={stamp} />
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
