import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { CopyButton } from "@/components/copy-button";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { isAppError } from "@/lib/errors";
import { getKmsKey, grantInstructions } from "@/lib/keys";
import { getKms } from "@/lib/kms";
import { loadTenantContext } from "../../tenant-context";
import { KeyGrantsForm } from "../_components/key-grants-form";
import { KeyStatusBadge } from "../_components/key-status-badge";
import { RemoveKeyForm } from "../_components/remove-key-form";
import { VerifyPanel } from "../_components/verify-panel";

export const metadata: Metadata = { title: "Key" };

export default async function KeyPage({ params }: { params: Promise<{ slug: string; keyId: string }> }) {
  const { slug, keyId } = await params;
  const { caller, tenant } = await loadTenantContext(slug);
  if (!/^[0-9a-f-]{36}$/i.test(keyId)) notFound();
  const key = await getKmsKey(caller, tenant.id, keyId).catch((error: unknown) => {
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  });
  const instructions = grantInstructions({
    vendorPrincipalArn: getKms().vendorPrincipalArn,
    keyArn: key.arn,
    region: key.region,
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
  });
  const isAdmin = tenant.role === "admin";
  // Never usable: nothing was wrapped by it, so it can go (lib/keys re-checks under a row lock).
  const removable = key.status === "PENDING_VERIFICATION" && !key.isPrimary;

  return (
    <div className="space-y-6">
      <Link href={`/t/${tenant.slug}/keys`} className="text-sm text-primary hover:underline">
        ← All keys
      </Link>
      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader title="KMS key" actions={<KeyStatusBadge keyView={key} />} />
          <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_1fr]">
            <dt className="text-muted-foreground">ARN</dt>
            <dd className="font-mono text-xs break-all" data-testid="key-arn">{key.arn}</dd>
            <dt className="text-muted-foreground">Region · account</dt>
            <dd>
              {key.region} · {key.accountId}
              {key.multiRegion ? " · multi-Region key" : ""}
            </dd>
            <dt className="text-muted-foreground">Encryption context</dt>
            <dd className="font-mono text-xs">tenant_id = {tenant.id}</dd>
            <dt className="text-muted-foreground">Registered</dt>
            <dd><LocalTime value={key.createdAt} /></dd>
            <dt className="text-muted-foreground">Last verified</dt>
            <dd data-testid="key-last-verified">
              {key.lastVerifiedAt ? <LocalTime value={key.lastVerifiedAt} withSeconds /> : "never"}
              {key.lastAttemptAt && key.lastAttemptOk === false ? (
                <span className="text-muted-foreground" data-testid="key-last-attempt">
                  {" "}
                  · last attempt <LocalTime value={key.lastAttemptAt} withSeconds />, failed
                </span>
              ) : null}
            </dd>
            <dt className="text-muted-foreground">Last used</dt>
            <dd>{key.lastUsedAt ? <LocalTime value={key.lastUsedAt} withSeconds /> : "never"}</dd>
            {/* A verification's failure is shown with its steps below; this is for the key service's. */}
            {key.lastError && !key.lastVerifySteps?.some((step) => step.message === key.lastError) ? (
              <>
                <dt className="text-muted-foreground">Last error</dt>
                <dd className="text-destructive" data-testid="key-last-error">
                  {key.lastError}
                  {key.lastErrorAt ? (
                    <span className="text-muted-foreground">
                      {" "}
                      (<LocalTime value={key.lastErrorAt} withSeconds />)
                    </span>
                  ) : null}
                </dd>
              </>
            ) : null}
            <dt className="text-muted-foreground">Grants</dt>
            <dd className="font-mono text-xs break-all" data-testid="key-grants">
              {key.grantIds.length === 0 ? <span className="font-sans">none recorded</span> : key.grantIds.map((id) => <div key={id}>{id}</div>)}
            </dd>
          </dl>
        </CardContent>
      </Card>

      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="1. Give Custody access on your side"
            description="Add these statements to the key's policy (Statement array). They let Custody's AWS principal call only DescribeKey, and GenerateDataKey and Decrypt with this tenant's encryption context — the three calls Custody makes. Custody's role is in the vendor's AWS account; the vendor attaches its own IAM policy there, nothing for you to do."
            actions={<CopyButton value={instructions.policyStatements} label="Copy policy" />}
          />
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs" data-testid="policy-statements">{instructions.policyStatements}</pre>
          <PageHeader
            as="h3"
            title="Or, instead, create one grant"
            description="The equivalent grant with the AWS CLI: the encryption-context constraint applies to GenerateDataKey and Decrypt (DescribeKey carries no context). Paste its GrantId below, so Custody can retire it when you revoke."
            actions={<CopyButton value={instructions.createGrantCommands} label="Copy commands" />}
          />
          <pre className="overflow-x-auto rounded-md bg-muted p-4 text-xs whitespace-pre-wrap break-all" data-testid="grant-commands">
            {instructions.createGrantCommands}
          </pre>
          {isAdmin ? <KeyGrantsForm tenantId={tenant.id} kmsKeyId={key.id} grantIds={key.grantIds} /> : null}
          <p className="text-sm text-muted-foreground">
            AWS can take a few minutes to apply a new grant or key-policy statement; Verify keeps trying for up to five minutes.
          </p>
        </CardContent>
      </Card>

      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="2. Verify"
            description="Runs GenerateDataKey and Decrypt with this tenant's encryption context, then DescribeKey, live against your KMS. Success makes this key the tenant's primary."
          />
          <VerifyPanel slug={tenant.slug} kmsKeyId={key.id} canVerify={isAdmin} lastSteps={key.lastVerifySteps} />
        </CardContent>
      </Card>

      {isAdmin && removable ? (
        <Card>
          <CardContent className="space-y-4 pt-6">
            <PageHeader title="Registered by mistake?" />
            <RemoveKeyForm tenantId={tenant.id} kmsKeyId={key.id} slug={tenant.slug} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
