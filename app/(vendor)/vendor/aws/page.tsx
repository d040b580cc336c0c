import type { Metadata } from "next";
import { CopyButton } from "@/components/copy-button";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { requireVendorAdmin } from "@/lib/auth/principal";
import { getAwsKms } from "@/lib/kms/providers/aws/settings";
import { vendorIamCommand, vendorIamPolicy, vendorTrustPolicy } from "@/lib/kms/providers/aws/vendor-policy";
import { SelfTestForm } from "./_components/self-test-form";

export const metadata: Metadata = { title: "AWS role" };

/** How Custody gets its AWS credentials, in words (never the keys or the external id). */
function credentialSource(aws: ReturnType<typeof getAwsKms>["aws"]): string {
  const base = aws?.accessKeyId ? "static access keys (KMS_ACCESS_KEY_ID)" : "the AWS SDK's default chain (instance profile, task role, IRSA …)";
  if (!aws?.roleArn) return `Custody uses ${base} directly.`;
  return `Custody starts with ${base} and assumes this role with STS${aws.externalId ? ", with an external id" : ""} (session name ${aws.sessionName}).`;
}

export default async function VendorAwsPage() {
  await requireVendorAdmin();
  const { vendorPrincipalArn, aws } = getAwsKms();
  const iamPolicy = vendorIamPolicy(vendorPrincipalArn);
  const trustPolicy = vendorTrustPolicy("<the identity Custody starts as: its instance profile or task role>", aws?.externalId ? "<your external id>" : undefined);
  const roleName = vendorPrincipalArn.split("/").at(-1) ?? "custody";

  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Custody's AWS role"
            description="Customers' keys live in their own AWS accounts; Custody runs on this role in yours. For a call across accounts AWS requires both the customer's key policy (or grant) and this role's own IAM policy to allow it."
          />
          <p className="font-mono text-xs break-all" data-testid="vendor-role-arn">{vendorPrincipalArn}</p>
          <p className="text-sm text-muted-foreground" data-testid="vendor-credential-source">{credentialSource(aws)}</p>
        </CardContent>
      </Card>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Self-test"
            description="Checks that Custody's credentials resolve, that they are the role tenants admit, and tries each tenant's key with Custody's calls, saying whose side refused. Recorded in your trail and in each tried tenant's."
          />
          <SelfTestForm />
        </CardContent>
      </Card>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Permissions policy"
            description="Attach this least-privilege policy to the role: exactly the calls Custody makes, the cryptographic ones only with Custody's tenant encryption context, all only from your account."
            actions={<CopyButton value={iamPolicy} label="Copy policy" />}
          />
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs" data-testid="vendor-iam-policy">{iamPolicy}</pre>
          <p className="text-sm text-muted-foreground">
            Save it as custody-kms-policy.json and, in your account: <code className="font-mono text-xs">{vendorIamCommand(vendorPrincipalArn)}</code>.
            A tenant whose verification failed because this policy is missing shows &ldquo;verify failed: your IAM policy&rdquo; on the Tenants page.
          </p>
        </CardContent>
      </Card>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="Trust policy"
            description="Who may assume the role: the identity Custody's instances start as. Set KMS_ROLE_ARN (and KMS_ROLE_EXTERNAL_ID if you require one) in Custody's environment."
            actions={<CopyButton value={trustPolicy} label="Copy trust policy" />}
          />
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs" data-testid="vendor-trust-policy">{trustPolicy}</pre>
          <p className="text-sm text-muted-foreground">
            Save it as custody-trust-policy.json, then:{" "}
            <code className="font-mono text-xs">aws iam create-role --role-name {roleName} --assume-role-policy-document file://custody-trust-policy.json</code>.
          </p>
        </CardContent>
      </Card>
    </div>
  );
}
