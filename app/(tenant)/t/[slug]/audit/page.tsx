import type { Metadata } from "next";
import Link from "next/link";
import { AuditTable } from "@/components/audit-table";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
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
  const { before } = await searchParams;
  const { caller, tenant } = await loadTenantContext(slug);
  const cursor = before && /^\d{1,19}$/.test(before) ? BigInt(before) : undefined;
  const page = await listTenantEvents(caller, tenant.id, { before: cursor, limit: 50 });

  return (
    <Card>
      <CardContent className="pt-6">
        <PageHeader
          title="Audit trail"
          description="Every sign-in and change in this tenant, newest first. Events are hash-chained: none can be edited or removed without detection."
        />
        <AuditTable events={page.events} />
        <div className="mt-4 flex justify-between">
          {cursor !== undefined ? (
            <Button asChild variant="outline" size="sm">
              <Link href={`/t/${tenant.slug}/audit`}>← Newest</Link>
            </Button>
          ) : (
            <span />
          )}
          {page.nextBefore ? (
            <Button asChild variant="outline" size="sm">
              <Link href={`/t/${tenant.slug}/audit?before=${page.nextBefore}`}>Older events →</Link>
            </Button>
          ) : null}
        </div>
      </CardContent>
    </Card>
  );
}
