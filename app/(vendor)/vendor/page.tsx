import type { Metadata } from "next";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { CopyButton } from "@/components/copy-button";
import { callerFor, requireVendorAdmin } from "@/lib/auth/principal";
import { parseFleetQuery } from "@/lib/fleet/fleet-query";
import { listFleet } from "@/lib/fleet/list-fleet";
import { vendorIamCommand, vendorIamPolicy } from "@/lib/keys";
import { getKms } from "@/lib/kms";
import { CreateTenantForm } from "./_components/create-tenant-form";
import { FleetTable } from "./_components/fleet-table";

export const metadata: Metadata = { title: "Tenants" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function VendorTenantsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requireVendorAdmin();
  const { query, ignored } = parseFleetQuery(await searchParams);
  const fleet = await listFleet(await callerFor(principal), query);
  const { vendorPrincipalArn, partition } = getKms();
  const iamPolicy = vendorIamPolicy(partition);

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
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Custody's AWS role"
            description="Customers' keys live in their own AWS accounts. For a call across accounts AWS requires both the customer's key policy (or grant) and this role's own IAM policy to allow it. Attach this least-privilege policy to the role in your account: exactly the calls Custody makes, the cryptographic ones only with Custody's tenant encryption context."
            actions={<CopyButton value={iamPolicy} label="Copy policy" />}
          />
          <p className="font-mono text-xs break-all" data-testid="vendor-role-arn">{vendorPrincipalArn}</p>
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs" data-testid="vendor-iam-policy">{iamPolicy}</pre>
          <p className="text-sm text-muted-foreground">
            Save it as custody-kms-policy.json and, in your account: <code className="font-mono text-xs">{vendorIamCommand(vendorPrincipalArn)}</code>.
            A tenant whose verification failed because this policy is missing shows &ldquo;verify failed: your IAM policy&rdquo; above.
          </p>
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
