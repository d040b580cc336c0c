import type { Metadata } from "next";
import Link from "next/link";
import { AuditTrailView, type SearchParams } from "@/components/audit/audit-trail-view";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { listTenantEvents, tenantEvent, tenantHeadSeq } from "@/lib/audit";
import { listKmsKeys } from "@/lib/keys";
import { loadTenantContext } from "../tenant-context";

export const metadata: Metadata = { title: "Audit trail" };

export default async function AuditPage({ params, searchParams }: { params: Promise<{ slug: string }>; searchParams: Promise<SearchParams> }) {
  const { slug } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  const basePath = `/t/${tenant.slug}/audit`;
  const keys = await listKmsKeys(caller, tenant.id);
  return (
    <Card>
      <CardContent className="pt-6">
        <PageHeader
          title="Audit trail"
          description="Every key use, refusal, sign-in and change in this tenant, newest first. Events are hash-chained: none can be edited or removed without detection."
          actions={
            <Button asChild variant="outline" size="sm">
              <Link href={`${basePath}/integrity`}>Verify integrity</Link>
            </Button>
          }
        />
        <AuditTrailView
          basePath={basePath}
          searchParams={await searchParams}
          list={(options) => listTenantEvents(caller, tenant.id, options)}
          find={(seq) => tenantEvent(caller, tenant.id, seq)}
          keys={keys.keys.map((k) => ({ value: k.id, label: `${k.providerLabel} · ${k.keyRef}` }))}
          exportUrl={`${basePath}/export`}
          live={{ streamPath: `${basePath}/stream`, headSeq: () => tenantHeadSeq(caller, tenant.id) }}
        />
      </CardContent>
    </Card>
  );
}
