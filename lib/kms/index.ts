import "server-only";
import { getConfig } from "@/lib/config";
import { awsCredentials, credentialSettingsOf, type AwsCredentialSettings } from "./aws-credentials";
import { createAwsKmsProvider, DEFAULT_AWS_KMS_CONFIG } from "./aws-provider";
import type { KmsProvider } from "./provider";

export type { EncryptionContext, KeyDescription, KmsProvider } from "./provider";
export { isKmsError, KmsError, type KmsErrorKind } from "./errors";
export { parseKeyArn, keyArnSchema, KeyArnError, type KeyArn } from "./arn";

export type KmsSettings = {
  provider: KmsProvider;
  partition: "aws" | "aws-cn" | "aws-us-gov";
  /** The AWS principal tenants grant wrap/unwrap to. */
  vendorPrincipalArn: string;
  /** Where the provider's credentials come from (the vendor's self-test checks them). */
  aws?: AwsCredentialSettings;
};

const globalForKms = globalThis as unknown as { custodyKms?: KmsSettings };

/** The process's KMS provider and vendor principal, from the environment (set once, on first use). */
export function getKms(): KmsSettings {
  if (!globalForKms.custodyKms) {
    const env = getConfig();
    const aws = credentialSettingsOf(env);
    const vendorPrincipalArn = env.KMS_VENDOR_PRINCIPAL_ARN ?? env.KMS_ROLE_ARN;
    if (!vendorPrincipalArn) throw new Error("KMS_VENDOR_PRINCIPAL_ARN is not set");
    globalForKms.custodyKms = {
      partition: env.KMS_PARTITION,
      vendorPrincipalArn,
      aws,
      provider: createAwsKmsProvider({
        ...DEFAULT_AWS_KMS_CONFIG,
        partition: env.KMS_PARTITION,
        endpoint: env.KMS_ENDPOINT,
        maxAttempts: env.KMS_MAX_ATTEMPTS,
        credentials: awsCredentials(aws),
      }),
    };
  }
  return globalForKms.custodyKms;
}

/** Replaces the process's KMS settings (tests that point at their own development KMS). */
export function setKmsForTests(settings: KmsSettings | undefined): void {
  globalForKms.custodyKms = settings;
}
