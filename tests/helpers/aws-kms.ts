import { DEV_KMS_VENDOR } from "@/lib/dev/kms/defaults";
import { setKmsClientForTests } from "@/lib/kms";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG } from "@/lib/kms/providers/aws/client";
import { createAwsKmsClient } from "@/lib/kms/providers/aws/kms-client";

/**
 * Points this process's AWS KMS provider at a development KMS, as Custody's vendor principal
 * (and names that principal in the configuration, so the AWS provider counts as set up and its
 * instructions name it). Returns the undo.
 */
export function pointAwsKmsAt(endpoint: string): () => void {
  const previous = process.env.KMS_VENDOR_PRINCIPAL_ARN;
  process.env.KMS_VENDOR_PRINCIPAL_ARN = DEV_KMS_VENDOR.arn;
  setKmsClientForTests(
    "aws",
    createAwsKmsClient(
      createAwsKmsApi({
        ...DEFAULT_AWS_KMS_CONFIG,
        partition: "aws",
        endpoint,
        credentials: { accessKeyId: DEV_KMS_VENDOR.accessKeyId, secretAccessKey: DEV_KMS_VENDOR.secretAccessKey },
      }),
    ),
  );
  return () => {
    setKmsClientForTests("aws", undefined);
    if (previous === undefined) delete process.env.KMS_VENDOR_PRINCIPAL_ARN;
    else process.env.KMS_VENDOR_PRINCIPAL_ARN = previous;
  };
}

/** registerKmsKey's input for an AWS key by ARN (and optional grant ids). */
export function awsKeyInput(tenantId: string, arn: string, grantIds?: string) {
  return { tenantId, provider: "aws", fields: { arn, grantIds } };
}
