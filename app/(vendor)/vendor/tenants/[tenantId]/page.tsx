import type { Metadata } from "next";
import Link from "next/link";
import { cache } from "react";
import { notFound } from "next/navigation";
import { CheckCircle2Icon, CircleIcon } from "lucide-react";
import { CopyButton } from "@/components/copy-button";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { isAppError } from "@/lib/errors";
import { type FleetTenantDetail, getFleetTenant, type OnboardingStep } from "@/lib/fleet/tenant-detail";
import { FLEET_STATE_LABEL } from "../../_components/fleet-table";
import { ResendInvitation } from "./_components/resend-invitation";


const STEP_LABEL: Record<OnboardingStep, string> = {
  invited: "First admin invited",
  signed_in: "An admin signed in",
  key_registered: "KMS key registered",
  key_verified: "KMS key verified",
};

const count = new Intl.NumberFormat("en");

// One read per request, shared by the title and the page.
const load = cache(async (tenantId: string): Promise<FleetTenantDetail> => {
  const principal = await requireVendorAdmin();
  try {
    return await getFleetTenant(await callerFor(principal), tenantId);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  }
});

export async function generateMetadata({ params }: { params: Promise<{ tenantId: string }> }): Promise<Metadata> {
  const { row } = await load((await params).tenantId);
  return { title: `${row.name} · Tenants` };
}

function Figure({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="space-y-1">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-sm font-medium tabular-nums" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export default async function VendorTenantPage({ params }: { params: Promise<{ tenantId: string }> }) {
  const { tenantId } = await params;
  const { row, admins, onboarding, keys } = await load(tenantId);
  const state = FLEET_STATE_LABEL[row.state];

  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link href="/vendor" className="text-muted-foreground underline-offset-4 hover:underline">
          ← All tenants
        </Link>
      </p>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title={row.name}
            description={<>/t/{row.slug} · created <LocalTime value={row.createdAt} /></>}
            actions={<CopyButton value={row.id} label="Copy tenant id" />}
          />
          <p className="font-mono text-xs break-all text-muted-foreground" data-testid="tenant-id">
            {row.id}
          </p>
          <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
            <Figure label="Key" testId="tenant-key-state">
              <Badge variant={state.variant}>{state.label}</Badge>
            </Figure>
            <Figure label="KMS">{row.provider ? [row.providerLabel ?? row.provider, row.location].filter(Boolean).join(" · ") : "—"}</Figure>
            <Figure label="Last verified">{row.lastVerifiedAt ? <LocalTime value={row.lastVerifiedAt} /> : "—"}</Figure>
            <Figure label="Last use">{row.lastUsedAt ? <LocalTime value={row.lastUsedAt} /> : "—"}</Figure>
            <Figure label="Key-service calls, 24 h">{count.format(row.operations24h)}</Figure>
            <Figure label="Refused, 24 h">{count.format(row.refusals24h)}</Figure>
            <Figure label="Lease failures, 24 h">{count.format(row.leaseFailures24h)}</Figure>
            <Figure label="Failing log sinks">{row.failingSinks}</Figure>
            <Figure label="KMS key rotation" testId="tenant-rotation">
              {row.rotationOverdueDays === null ? "not overdue" : <Badge variant="warning">overdue by {count.format(row.rotationOverdueDays)} days</Badge>}
            </Figure>
          </dl>
          {row.vendorSideFailure ? (
            <p className="text-sm text-destructive-text" role="status">
              The tenant&apos;s last verification failed on your side: Custody&apos;s own cloud identity lacks the permissions shown on the Tenants page.
            </p>
          ) : null}
        </CardContent>
      </Card>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader title="Onboarding" description={`${keys.registered} KMS key${keys.registered === 1 ? "" : "s"} registered, ${keys.verified} verified.`} />
          <ol className="space-y-2" data-testid="onboarding-steps">
            {onboarding.map(({ step, done }) => (
              <li key={step} className="flex items-center gap-2 text-sm" data-step={step} data-done={done}>
                {done ? <CheckCircle2Icon aria-hidden className="size-4 text-success-text" /> : <CircleIcon aria-hidden className="size-4 text-muted-foreground" />}
                <span className={done ? undefined : "text-muted-foreground"}>{STEP_LABEL[step]}</span>
                <span className="sr-only">{done ? "(done)" : "(not yet)"}</span>
              </li>
            ))}
          </ol>
        </CardContent>
      </Card>
      <Card>
        <CardContent className="pt-6">
          <PageHeader title="Admins" description="The tenant's admins: whom to contact about its key." />
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Email</TableHead>
                <TableHead>Invited</TableHead>
                <TableHead>Last signed in</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {admins.map((admin) => (
                <TableRow key={admin.email} data-testid="tenant-admin">
                  <TableCell className="break-all">{admin.email}</TableCell>
                  <TableCell className="text-sm text-muted-foreground">
                    <LocalTime value={admin.invitedAt} />
                  </TableCell>
                  <TableCell className="space-y-1 text-sm text-muted-foreground" data-testid="tenant-admin-sign-in">
                    {admin.lastSignInAt ? <LocalTime value={admin.lastSignInAt} /> : admin.invitation ? null : "never"}
                    {admin.invitation ? (
                      <>
                        <div className={admin.invitation.expired ? "text-destructive" : undefined}>
                          {admin.invitation.expiresAt ? (
                            <>
                              {admin.invitation.expired ? "Invitation expired" : "Invited; must sign in before"} <LocalTime value={admin.invitation.expiresAt} />
                            </>
                          ) : (
                            "Invited; has not signed in"
                          )}
                        </div>
                        <ResendInvitation tenantId={row.id} membershipId={admin.membershipId} email={admin.email} />
                      </>
                    ) : null}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
    </div>
  );
}
