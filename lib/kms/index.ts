import "server-only";
import { getConfig } from "@/lib/config";
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
};

const globalForKms = globalThis as unknown as { custodyKms?: KmsSettings };

/** The process's KMS provider and vendor principal, from the environment (set once, on first use). */
export function getKms(): KmsSettings {
  if (!globalForKms.custodyKms) {
    const env = getConfig();
    if (!env.KMS_VENDOR_PRINCIPAL_ARN) throw new Error("KMS_VENDOR_PRINCIPAL_ARN is not set");
    globalForKms.custodyKms = {
      partition: env.KMS_PARTITION,
      vendorPrincipalArn: env.KMS_VENDOR_PRINCIPAL_ARN,
      provider: createAwsKmsProvider({
        ...DEFAULT_AWS_KMS_CONFIG,
        partition: env.KMS_PARTITION,
        endpoint: env.KMS_ENDPOINT,
        maxAttempts: env.KMS_MAX_ATTEMPTS,
        credentials:
          env.KMS_ACCESS_KEY_ID && env.KMS_SECRET_ACCESS_KEY
            ? { accessKeyId: env.KMS_ACCESS_KEY_ID, secretAccessKey: env.KMS_SECRET_ACCESS_KEY }
            : undefined,
      }),
    };
  }
  return globalForKms.custodyKms;
}

/** Replaces the process's KMS settings (tests that point at their own development KMS). */
export function setKmsForTests(settings: KmsSettings | undefined): void {
  globalForKms.custodyKms = settings;
}
