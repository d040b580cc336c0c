import { z } from "zod";
import { httpUrl } from "../fields";
import type { ProviderChecks } from "./types";

// AWS KMS's settings (lib/kms/providers/aws reads them through getConfig()).

export const AWS_KMS_VARIABLES = {
  /** The partition Custody's AWS principal lives in; keys of other partitions are refused. */
  KMS_PARTITION: z.enum(["aws", "aws-cn", "aws-us-gov"], { message: "must be aws, aws-cn or aws-us-gov" }).default("aws"),
  KMS_ENDPOINT: httpUrl.optional(),
  KMS_VENDOR_PRINCIPAL_ARN: z
    .string()
    .regex(/^arn:aws(-cn|-us-gov)?:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_\-/]+$/, "must be an IAM role or user ARN, like arn:aws:iam::111122223333:role/custody")
    .optional(),
  KMS_ACCESS_KEY_ID: z.string().min(16, "must be an AWS access key id").optional(),
  KMS_SECRET_ACCESS_KEY: z.string().min(16, "must be an AWS secret access key").optional(),
  KMS_MAX_ATTEMPTS: z.coerce.number({ message: "must be a number" }).int().min(1).max(10).default(3),
};

export const awsKmsChecks: ProviderChecks = (raw, { keyService, production }) => {
  const problems: string[] = [];
  if ((raw.KMS_ACCESS_KEY_ID === undefined) !== (raw.KMS_SECRET_ACCESS_KEY === undefined)) {
    problems.push("KMS_ACCESS_KEY_ID and KMS_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credentials)");
  }
  if (keyService && raw.KMS_VENDOR_PRINCIPAL_ARN === undefined) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN is required (the AWS principal tenants grant access to)");
  }
  if (!keyService && production && raw.KMS_VENDOR_PRINCIPAL_ARN === undefined) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN is required outside demo mode (the AWS principal tenants grant access to)");
  }
  return problems;
};
