import type { Metadata } from "next";
import { InstructionBlocks } from "@/components/instruction-blocks";
import Link from "next/link";
import { notFound } from "next/navigation";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { isAppError } from "@/lib/errors";
import { KmsProviderIcon } from "@/components/kms-provider-icon";
import { getConfig } from "@/lib/config";
import { getKmsKey } from "@/lib/keys";
import { KMS_PROVIDERS } from "@/lib/kms";
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
  const provider = KMS_PROVIDERS[key.ref.provider];
  const instructions = provider.instructions({ key: key.ref, tenant: { id: tenant.id, slug: tenant.slug }, config: getConfig() });
  const binding = provider.display.tenantBinding(tenant.id);
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
            <dt className="text-muted-foreground">KMS</dt>
            <dd className="inline-flex items-center gap-1.5" data-testid="key-provider">
              <KmsProviderIcon icon={provider.display.icon} />
              {provider.display.label}
            </dd>
            <dt className="text-muted-foreground">{provider.display.referenceLabel}</dt>
            <dd className="font-mono text-xs break-all" data-testid="key-ref">{key.keyRef}</dd>
            <dt className="text-muted-foreground">Location</dt>
            <dd data-testid="key-location">{[key.location ?? "—", ...key.facts].join(" · ")}</dd>
            <dt className="text-muted-foreground">{binding.label}</dt>
            <dd className="font-mono text-xs">{binding.value}</dd>
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
            {key.revocationHandles ? (
              <>
                <dt className="text-muted-foreground">Grants</dt>
                <dd className="font-mono text-xs break-all" data-testid="key-grants">
                  {key.revocationHandles.length === 0 ? <span className="font-sans">none recorded</span> : key.revocationHandles.map((id) => <div key={id}>{id}</div>)}
                </dd>
              </>
            ) : null}
          </dl>
        </CardContent>
      </Card>

      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader title="1. Give Custody access on your side" />
          <InstructionBlocks blocks={instructions} />
          {isAdmin && key.revocationHandles ? <KeyGrantsForm tenantId={tenant.id} kmsKeyId={key.id} grantIds={key.revocationHandles} /> : null}
          {provider.verify.propagationNote ? <p className="text-sm text-muted-foreground">{provider.verify.propagationNote}</p> : null}
        </CardContent>
      </Card>

      <Card>
        <CardContent className="space-y-4 pt-6">
          <PageHeader
            title="2. Verify"
            description={provider.verify.summary}
          />
          <VerifyPanel slug={tenant.slug} kmsKeyId={key.id} canVerify={isAdmin} lastSteps={key.lastVerifySteps} waiting={provider.verify.waiting ?? "Your KMS can take a few minutes to apply new access"} />
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
