import { TENANT_CONTEXT_KEY } from "./encryption-context";

// The vendor's half of cross-account access: the IAM policies on Custody's own role, in the
// vendor's AWS account. A customer's key lives in the customer's account, so AWS allows
// Custody's call only when the customer's key policy (or a grant) AND this role's identity
// policy allow it (a grant needs no identity policy).
//
//   permissions policy  DescribeKey on any KMS key; GenerateDataKey, Decrypt and Encrypt (rotating
//                       a customer's key re-wraps tenant keys under the new one) only with an
//                       encryption context that carries Custody's tenant key and nothing else
//                       (the key policies decide which keys); all of it only while the caller
//                       is in the vendor's account (kms:CallerAccount: a copy attached to a
//                       role anywhere else allows nothing).
//   trust policy        who may assume the role: the identity Custody's process starts with
//                       (instance profile, task role, IRSA, or a user), optionally with an
//                       external id (sts:ExternalId).

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):(?:iam|sts)::(\d{12}):(?:role|user|assumed-role)\/(?:.*\/)?([\w+=,.@-]+)$/;

export type VendorPrincipal = { partition: string; accountId: string; name: string };

/** The partition, account and (last path part of the) name of Custody's principal ARN. */
export function vendorPrincipalOf(arn: string): VendorPrincipal {
  const match = ROLE_ARN.exec(arn);
  if (!match) throw new Error("The vendor principal is not an IAM role or user ARN");
  return { partition: match[1]!, accountId: match[2]!, name: match[3]! };
}

/** The permissions policy Custody's role needs (vendor console: Tenants → Custody's AWS role). */
export function vendorIamPolicy(vendorPrincipalArn: string): string {
  const { partition, accountId } = vendorPrincipalOf(vendorPrincipalArn);
  const keys = `arn:${partition}:kms:*:*:key/*`;
  const inVendorAccount = { "kms:CallerAccount": accountId };
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        { Sid: "CustodyDescribeCustomerKeys", Effect: "Allow", Action: "kms:DescribeKey", Resource: keys, Condition: { StringEquals: inVendorAccount } },
        {
          Sid: "CustodyUseCustomerKeysPerTenant",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
          Resource: keys,
          Condition: {
            StringEquals: inVendorAccount,
            Null: { [`kms:EncryptionContext:${TENANT_CONTEXT_KEY}`]: "false" },
            "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": [TENANT_CONTEXT_KEY] },
          },
        },
      ],
    },
    null,
    2,
  );
}

/**
 * The role's trust policy: `runnerArn` (what Custody's process starts as) may assume it,
 * with `externalId` when one is configured.
 */
export function vendorTrustPolicy(runnerArn: string, externalId?: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CustodyRunsAsThisRole",
          Effect: "Allow",
          Principal: { AWS: runnerArn },
          Action: "sts:AssumeRole",
          ...(externalId ? { Condition: { StringEquals: { "sts:ExternalId": externalId } } } : {}),
        },
      ],
    },
    null,
    2,
  );
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\-.:/=@+,]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The AWS CLI that attaches vendorIamPolicy to Custody's role (run in the vendor's account). */
export function vendorIamCommand(roleArn: string): string {
  return `aws iam put-role-policy --role-name ${shellQuote(vendorPrincipalOf(roleArn).name)} --policy-name custody-kms --policy-document file://custody-kms-policy.json`;
}
