import { vendorIamPolicy } from "@/lib/kms/providers/aws/instructions";
import type { DevKmsPrincipalConfig } from "./principals";

// The development KMS's well-known settings, shared by demo mode, the CLI and the tests.
// These credentials are public: they open only a local development KMS that listens on
// loopback by default. Two principals play the two sides of customer-managed keys:
//
// - the vendor (Custody's service role), in the vendor's own account (999988887777), as in
//   production: its IAM policy is the least-privilege one the vendor console shows
//   (vendorIamPolicy), and it can use a customer's key only where the customer's key policy
//   names it (and that IAM policy allows the call) or a grant is made to it;
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

export const DEV_KMS_VENDOR: DevKmsCredentials = {
  accessKeyId: "AKIADEVCUSTODYVENDOR",
  secretAccessKey: "dev-custody-vendor-secret-not-for-production",
  arn: `arn:aws:iam::${DEV_KMS_VENDOR_ACCOUNT_ID}:role/custody-vendor`,
};

export const DEV_KMS_CUSTOMER_ADMIN: DevKmsCredentials = {
  accessKeyId: "AKIADEVCUSTOMERADMIN",
  secretAccessKey: "dev-customer-admin-secret-not-for-production",
  arn: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:user/customer-admin`,
};

/** The `principals` option of startDevKms for the two development principals. */
export const DEV_KMS_PRINCIPALS: Record<string, DevKmsPrincipalConfig> = {
  [DEV_KMS_VENDOR.accessKeyId]: {
    secretAccessKey: DEV_KMS_VENDOR.secretAccessKey,
    arn: DEV_KMS_VENDOR.arn,
    identityPolicy: vendorIamPolicy(),
  },
  [DEV_KMS_CUSTOMER_ADMIN.accessKeyId]: {
    secretAccessKey: DEV_KMS_CUSTOMER_ADMIN.secretAccessKey,
    arn: DEV_KMS_CUSTOMER_ADMIN.arn,
    admin: true,
  },
};

/** KMSClient settings for one of the principals against a running dev KMS. */
export function devKmsClientConfig(endpoint: string, principal: DevKmsCredentials) {
  return {
    endpoint,
    region: DEV_KMS_REGION,
    credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
  };
}
