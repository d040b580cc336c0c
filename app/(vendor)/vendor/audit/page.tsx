import type { Metadata } from "next";
import { AuditTrailView, type SearchParams } from "@/components/audit/audit-trail-view";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { listVendorEvents, vendorEvent } from "@/lib/audit";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";

export const metadata: Metadata = { title: "Vendor audit trail" };

export default async function VendorAuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requireVendorAdmin();
  const caller = await callerFor(principal);
  return (
    <Card>
      <CardContent className="pt-6">
        <PageHeader
          title="Vendor audit trail"
          description="Events that belong to no tenant: vendor-admin grants, vendor sign-ins, sign-ins refused for lack of access, and every service-credential action. What you do to a tenant is in that tenant's own trail (credentials restricted to a tenant appear in both)."
        />
        <AuditTrailView
          basePath="/vendor/audit"
          searchParams={await searchParams}
          list={(options) => listVendorEvents(caller, options)}
          find={(seq) => vendorEvent(caller, seq)}
        />
      </CardContent>
    </Card>
  );
}
