import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_PRINCIPALS, DEV_KMS_ROLES, DEV_KMS_VENDOR, devKmsVendorCredentialSettings } from "@/lib/dev/kms/defaults";
import { startDevKms, type DevKms, type DevKmsOptions } from "@/lib/dev/kms/server";
import type { AwsKmsSettings } from "@/lib/kms/providers/aws/settings";
import { awsCredentials, type AwsCredentialSettings } from "@/lib/kms/providers/aws/credentials";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG, type AwsKmsConfig } from "@/lib/kms/providers/aws/client";

// A development KMS for one test file: port 0 (the endpoint says which port it got), the
// well-known account and principals, and a throw-away data dir that stop() removes.

export type TestDevKms = {
  /** The running server; replaced by restart(). */
  readonly kms: DevKms;
  readonly dataDir: string;
  /** Closes the server and starts a new one on the same data dir (new port, so a new endpoint). */
  restart(): Promise<DevKms>;
  /** Closes the server and deletes the data dir. Safe to call twice. */
  stop(): Promise<void>;
};

export async function startTestDevKms(prefix = "custody-dev-kms-", options: Partial<DevKmsOptions> = {}): Promise<TestDevKms> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const start = () => startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS, roles: DEV_KMS_ROLES, ...options });
  let kms: DevKms;
  try {
    kms = await start();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    get kms() {
      return kms;
    },
    dataDir,
    async restart() {
      await kms.close();
      kms = await start();
      return kms;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await kms.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Custody's KMS settings against a dev KMS, as production runs: the vendor's base keys assume
 * Custody's role (with its external id) through the STS endpoint, and every KMS call is made
 * as that role's session.
 */
export function vendorKmsSettings(
  endpoint: string,
  overrides: { credentials?: Partial<AwsCredentialSettings>; provider?: Partial<AwsKmsConfig> } = {},
): AwsKmsSettings {
  const aws = devKmsVendorCredentialSettings(endpoint, overrides.credentials);
  return {
    partition: "aws",
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    aws,
    provider: createAwsKmsApi({ ...DEFAULT_AWS_KMS_CONFIG, partition: "aws", endpoint, credentials: awsCredentials(aws), ...overrides.provider }),
  };
}

/** The same, as environment variables for a Custody process (the key service). */
export function vendorKmsEnvironment(endpoint: string): Record<string, string> {
  const aws = devKmsVendorCredentialSettings(endpoint);
  return {
    KMS_ENDPOINT: endpoint,
    KMS_STS_ENDPOINT: endpoint,
    KMS_ACCESS_KEY_ID: aws.accessKeyId!,
    KMS_SECRET_ACCESS_KEY: aws.secretAccessKey!,
    KMS_ROLE_ARN: aws.roleArn!,
    KMS_ROLE_EXTERNAL_ID: aws.externalId!,
  };
}
