import "server-only";
import { type Config, getConfig } from "@/lib/config";
import { setKmsClientForTests } from "@/lib/kms/clients";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG } from "./client";
import { awsCredentials, type AwsCredentialSettings, credentialSettingsOf } from "./credentials";
import { createAwsKmsClient } from "./kms-client";
import type { AwsKmsApi } from "./types";

// The process's AWS KMS settings: the SDK client (static keys, the default chain, or Custody's
// assumed role), the partition and the principal tenants grant access to. The provider's
// KmsClient (definition.ts) and the vendor's self-test both use them.

export type AwsKmsSettings = {
  provider: AwsKmsApi;
  partition: "aws" | "aws-cn" | "aws-us-gov";
  /** The AWS principal tenants grant wrap/unwrap to. */
  vendorPrincipalArn: string;
  /** Where the provider's credentials come from (the vendor's self-test checks them). */
  aws?: AwsCredentialSettings;
};

/** The AWS principal tenants grant access to: KMS_VENDOR_PRINCIPAL_ARN, else the role Custody assumes. */
export function vendorPrincipalArnOf(config: Config): string | undefined {
  return config.KMS_VENDOR_PRINCIPAL_ARN ?? config.KMS_ROLE_ARN;
}

export function awsKmsSettingsOf(config: Config): AwsKmsSettings {
  const aws = credentialSettingsOf(config);
  const vendorPrincipalArn = vendorPrincipalArnOf(config);
  if (!vendorPrincipalArn) throw new Error("KMS_VENDOR_PRINCIPAL_ARN is not set");
  return {
    partition: config.KMS_PARTITION,
    vendorPrincipalArn,
    aws,
    provider: createAwsKmsApi({
      ...DEFAULT_AWS_KMS_CONFIG,
      partition: config.KMS_PARTITION,
      endpoint: config.KMS_ENDPOINT,
      maxAttempts: config.KMS_MAX_ATTEMPTS,
      credentials: awsCredentials(aws),
    }),
  };
}

const globalForKms = globalThis as unknown as { custodyAwsKms?: AwsKmsSettings };

/** The process's AWS KMS settings, from the configuration (set once, on first use). */
export function getAwsKms(): AwsKmsSettings {
  globalForKms.custodyAwsKms ??= awsKmsSettingsOf(getConfig());
  return globalForKms.custodyAwsKms;
}

/** Replaces the process's AWS KMS settings, and the AWS provider's client with them (tests). */
export function setAwsKmsForTests(settings: AwsKmsSettings | undefined): void {
  globalForKms.custodyAwsKms = settings;
  setKmsClientForTests("aws", settings ? createAwsKmsClient(settings.provider) : undefined);
}
