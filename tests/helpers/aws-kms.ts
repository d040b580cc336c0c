import { DEV_KMS_VENDOR } from "@/lib/dev/kms/defaults";
import { setAwsKmsForTests } from "@/lib/kms/providers/aws/settings";
import { vendorKmsSettings } from "./dev-kms";

/**
 * Points this process's AWS KMS provider at a development KMS, on Custody's role as production
 * runs (and names that principal in the configuration, so the AWS provider counts as set up and
 * its instructions name it). Returns the undo.
 */
export function pointAwsKmsAt(endpoint: string): () => void {
  const previous = process.env.KMS_VENDOR_PRINCIPAL_ARN;
  process.env.KMS_VENDOR_PRINCIPAL_ARN = DEV_KMS_VENDOR.arn;
  setAwsKmsForTests(vendorKmsSettings(endpoint));
  return () => {
    setAwsKmsForTests(undefined);
    if (previous === undefined) delete process.env.KMS_VENDOR_PRINCIPAL_ARN;
    else process.env.KMS_VENDOR_PRINCIPAL_ARN = previous;
  };
}

/** registerKmsKey's input for an AWS key by ARN (and optional grant ids). */
export function awsKeyInput(tenantId: string, arn: string, grantIds?: string) {
  return { tenantId, provider: "aws", fields: { arn, grantIds } };
}
