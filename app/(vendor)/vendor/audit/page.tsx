import type { Metadata } from "next";
import { AuditPager, parseCursor } from "@/components/audit-pager";
import { AuditTable } from "@/components/audit-table";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { listVendorEvents } from "@/lib/audit";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";

export const metadata: Metadata = { title: "Vendor audit trail" };

export default async function VendorAuditPage({ searchParams }: { searchParams: Promise<{ before?: string }> }) {
  const cursor = parseCursor((await searchParams).before);
  const principal = await requireVendorAdmin();
  const page = await listVendorEvents(await callerFor(principal), { before: cursor, limit: 50 });
  return (
    <Card>
      <CardContent className="pt-6">
        <PageHeader
          title="Vendor audit trail"
          description="Events that belong to no tenant: vendor-admin grants, vendor sign-ins, sign-ins refused for lack of access, and every service-credential action. What you do to a tenant is in that tenant's own trail (credentials restricted to a tenant appear in both)."
        />
        <AuditTable events={page.events} />
        <AuditPager basePath="/vendor/audit" paged={cursor !== undefined} nextBefore={page.nextBefore} />
      </CardContent>
    </Card>
  );
}
