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
  /** The IAM role Custody assumes for every AWS call (STS AssumeRole), from the credentials above or the default chain. */
  KMS_ROLE_ARN: z
    .string()
    .regex(
      /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
      "must be an IAM role ARN, like arn:aws:iam::999988887777:role/custody (not a user, an assumed-role session or another resource)",
    )
    .optional(),
  KMS_ROLE_EXTERNAL_ID: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2-1224 characters: letters, digits and +=,.@:/-").optional(),
  KMS_ROLE_SESSION_NAME: z.string().regex(/^[\w+=,.@-]{2,64}$/, "must be 2-64 characters: letters, digits and +=,.@-").default("custody"),
  /** Only for a VPC or FIPS STS endpoint (or the development KMS, which speaks STS too). */
  KMS_STS_ENDPOINT: httpUrl.optional(),
  KMS_STS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region, like us-east-1").optional(),
  KMS_MAX_ATTEMPTS: z.coerce.number({ message: "must be a number" }).int().min(1).max(10).default(3),
};

export const awsKmsChecks: ProviderChecks = (raw, { keyService, production }) => {
  const problems: string[] = [];
  if ((raw.KMS_ACCESS_KEY_ID === undefined) !== (raw.KMS_SECRET_ACCESS_KEY === undefined)) {
    problems.push("KMS_ACCESS_KEY_ID and KMS_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credentials)");
  }
  problems.push(...roleChecks(raw));
  const principal = raw.KMS_VENDOR_PRINCIPAL_ARN ?? raw.KMS_ROLE_ARN;
  if (keyService && principal === undefined) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN (or KMS_ROLE_ARN) is required (the AWS principal tenants grant access to)");
  }
  if (!keyService && production && principal === undefined) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN (or KMS_ROLE_ARN) is required outside demo mode (the AWS principal tenants grant access to)");
  }
  return problems;
};

/** Custody's assumed role: the principal tenants name must be that role. */
function roleChecks(raw: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  if (raw.KMS_ROLE_ARN === undefined) {
    for (const name of ["KMS_ROLE_EXTERNAL_ID", "KMS_ROLE_SESSION_NAME"]) {
      if (raw[name] !== undefined) problems.push(`${name} needs KMS_ROLE_ARN (the role it is for)`);
    }
    return problems;
  }
  if (raw.KMS_VENDOR_PRINCIPAL_ARN !== undefined && raw.KMS_VENDOR_PRINCIPAL_ARN !== raw.KMS_ROLE_ARN) {
    problems.push("KMS_VENDOR_PRINCIPAL_ARN must be KMS_ROLE_ARN (or unset) when Custody assumes a role: tenants grant access to that role");
  }
  return problems;
}
