import type { Metadata } from "next";
import Link from "next/link";
import { InstructionBlocks } from "@/components/instruction-blocks";
import { KmsProviderIcon } from "@/components/kms-provider-icon";
import { PageHeader } from "@/components/page-header";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { requireVendorAdmin } from "@/lib/auth/principal";
import { getConfig } from "@/lib/config";
import { kmsProviders } from "@/lib/kms/registry";

export const metadata: Metadata = { title: "KMS set-up" };

// The vendor's half of every KMS Custody supports: what to create in the vendor's own cloud
// (a role, a service account, an app registration, a Vault server entry) so that customers'
// keys can admit Custody. Each provider says it in its own words (its vendorSetup); a provider
// this deployment has no settings for is shown as not offered to tenants.

export default async function VendorKmsPage() {
  await requireVendorAdmin();
  const config = getConfig();
  return (
    <div className="space-y-6">
      <Card>
        <CardContent className="pt-6">
          <PageHeader
            title="KMS set-up"
            description="Customers keep their keys in their own KMS and admit Custody there. This is your side: the identity Custody uses with each KMS. Tenants are offered only the providers configured here."
          />
        </CardContent>
      </Card>
      {kmsProviders().map((provider) => {
        const configured = provider.configured(config);
        return (
          <Card key={provider.name} data-testid="vendor-kms-provider" data-provider={provider.name}>
            <CardContent className="space-y-4 pt-6">
              <div className="flex flex-wrap items-center gap-2">
                <KmsProviderIcon icon={provider.display.icon} className="size-5" />
                <h2 className="text-lg font-semibold">{provider.display.label}</h2>
                <Badge variant={configured ? "default" : "secondary"} data-testid="vendor-kms-configured">
                  {configured ? "configured: offered to tenants" : "not configured: not offered"}
                </Badge>
              </div>
              <InstructionBlocks blocks={provider.vendorSetup(config)} />
              {provider.name === "aws" ? (
                <p className="text-sm text-muted-foreground">
                  The role&apos;s policies and a self-test of them are on <Link className="underline" href="/vendor/aws">AWS role</Link>.
                </p>
              ) : null}
            </CardContent>
          </Card>
        );
      })}
    </div>
  );
}
