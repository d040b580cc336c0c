import type { AwsCredentialSettings } from "@/lib/kms/providers/aws/credentials";
import { vendorIamPolicy, vendorTrustPolicy } from "@/lib/kms/providers/aws/vendor-policy";
import type { DevKmsPrincipalConfig, DevKmsRoleConfig } from "./principals";

// The development KMS's well-known settings, shared by demo mode, the CLI and the tests.
// These credentials are public: they open only a local development KMS that listens on
// loopback by default. The two sides of customer-managed keys:
//
// - the vendor, in its own account (999988887777), as in production: Custody's process starts
//   as `custody-runner` (standing for an instance profile or task role), whose IAM policy
//   allows only sts:AssumeRole on Custody's role, and assumes the role `custody-vendor` with
//   an external id (its trust policy requires it). The role's IAM policy is the
//   least-privilege one the vendor console shows (vendorIamPolicy); it can use a customer's
//   key only where the customer's key policy names it (and that IAM policy allows the call)
//   or a grant is made to it;
// - the customer's administrator, whose IAM policies allow all of KMS (`admin`), and who is
//   therefore allowed by the default key policy's account-root statement: the customer
//   creating and governing their own key, in the customer's account (111122223333).

/** The customer's account: where the development KMS's keys live. */
export const DEV_KMS_ACCOUNT_ID = "111122223333";
/** The vendor's own account, where Custody's role lives. */
export const DEV_KMS_VENDOR_ACCOUNT_ID = "999988887777";
export const DEV_KMS_REGION = "us-east-1";
export const DEV_KMS_DEFAULT_PORT = 4566;
export const DEV_KMS_DEFAULT_DATA_DIR = ".custody/dev-kms";

export type DevKmsCredentials = { accessKeyId: string; secretAccessKey: string; arn: string };

/** Custody's role: what customers' key policies and grants name (KMS_ROLE_ARN, the vendor principal). */
export const DEV_KMS_VENDOR = {
  arn: `arn:aws:iam::${DEV_KMS_VENDOR_ACCOUNT_ID}:role/custody-vendor`,
  externalId: "custody-dev-external-id",
  sessionName: "custody",
} as const;

/** What Custody's process starts as in the vendor's account: it may only assume Custody's role. */
export const DEV_KMS_VENDOR_RUNNER: DevKmsCredentials = {
  accessKeyId: "AKIADEVCUSTODYRUNNER",
  secretAccessKey: "dev-custody-runner-secret-not-for-production",
  arn: `arn:aws:iam::${DEV_KMS_VENDOR_ACCOUNT_ID}:user/custody-runner`,
};

export const DEV_KMS_CUSTOMER_ADMIN: DevKmsCredentials = {
  accessKeyId: "AKIADEVCUSTOMERADMIN",
  secretAccessKey: "dev-customer-admin-secret-not-for-production",
  arn: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:user/customer-admin`,
};

/** The `principals` option of startDevKms for the two development principals. */
export const DEV_KMS_PRINCIPALS: Record<string, DevKmsPrincipalConfig> = {
  [DEV_KMS_VENDOR_RUNNER.accessKeyId]: {
    secretAccessKey: DEV_KMS_VENDOR_RUNNER.secretAccessKey,
    arn: DEV_KMS_VENDOR_RUNNER.arn,
    identityPolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: DEV_KMS_VENDOR.arn }] },
  },
  [DEV_KMS_CUSTOMER_ADMIN.accessKeyId]: {
    secretAccessKey: DEV_KMS_CUSTOMER_ADMIN.secretAccessKey,
    arn: DEV_KMS_CUSTOMER_ADMIN.arn,
    admin: true,
  },
};

/** The `roles` option of startDevKms: Custody's role, assumable by the runner with the external id. */
export const DEV_KMS_ROLES: Record<string, DevKmsRoleConfig> = {
  [DEV_KMS_VENDOR.arn]: {
    trustPolicy: vendorTrustPolicy(DEV_KMS_VENDOR_RUNNER.arn, DEV_KMS_VENDOR.externalId),
    identityPolicy: vendorIamPolicy(DEV_KMS_VENDOR.arn),
  },
};

/** Custody's AWS credential settings against a running dev KMS: the runner's keys, assuming Custody's role. */
export function devKmsVendorCredentialSettings(endpoint: string, overrides: Partial<AwsCredentialSettings> = {}): AwsCredentialSettings {
  return {
    partition: "aws",
    accessKeyId: DEV_KMS_VENDOR_RUNNER.accessKeyId,
    secretAccessKey: DEV_KMS_VENDOR_RUNNER.secretAccessKey,
    roleArn: DEV_KMS_VENDOR.arn,
    externalId: DEV_KMS_VENDOR.externalId,
    sessionName: DEV_KMS_VENDOR.sessionName,
    stsEndpoint: endpoint,
    stsRegion: DEV_KMS_REGION,
    maxAttempts: 1,
    ...overrides,
  };
}

/** KMSClient settings for one of the principals against a running dev KMS. */
export function devKmsClientConfig(endpoint: string, principal: DevKmsCredentials) {
  return {
    endpoint,
    region: DEV_KMS_REGION,
    credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
  };
}
