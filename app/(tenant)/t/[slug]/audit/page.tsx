import type { Metadata } from "next";
import { AuditPager, parseCursor } from "@/components/audit-pager";
import { AuditTable } from "@/components/audit-table";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { listTenantEvents } from "@/lib/audit";
import { loadTenantContext } from "../tenant-context";

export const metadata: Metadata = { title: "Audit trail" };

export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ before?: string }>;
}) {
  const { slug } = await params;
  const cursor = parseCursor((await searchParams).before);
  const { caller, tenant } = await loadTenantContext(slug);
  const page = await listTenantEvents(caller, tenant.id, { before: cursor, limit: 50 });

  return (
    <Card>
      <CardContent className="pt-6">
        <PageHeader
          title="Audit trail"
          description="Every sign-in and change in this tenant, newest first. Events are hash-chained: none can be edited or removed without detection."
        />
        <AuditTable events={page.events} />
        <AuditPager basePath={`/t/${tenant.slug}/audit`} paged={cursor !== undefined} nextBefore={page.nextBefore} />
      </CardContent>
    </Card>
  );
}
