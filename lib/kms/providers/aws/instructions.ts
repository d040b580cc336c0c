import { TENANT_CONTEXT_KEY } from "./encryption-context";

// What each side adds in AWS so Custody's AWS principal may use a customer's key for one
// tenant only, least privilege: exactly the operations Custody calls.
//
//   kms:DescribeKey      verify checks the key is enabled and a symmetric encryption key
//   kms:GenerateDataKey  verify makes the tenant key, wrapped by the customer's key
//   kms:Decrypt          the key service unwraps the tenant key (and verify checks it can)
//   kms:Encrypt          rotating the customer's key: an existing tenant key, unwrapped by the
//                        old key, is wrapped under the new one (lib/keys/rotation)
//
// Custody never calls ReEncrypt (it works only within one account's keys and one provider) or
// GenerateDataKeyWithoutPlaintext, so neither is asked for.
//
// The customer's side: two key-policy statements, because DescribeKey carries no encryption
// context (a condition on the context would make AWS deny it); or one grant, whose
// encryption-context constraint applies to GenerateDataKey, Decrypt and Encrypt, not to DescribeKey
// (AWS allows DescribeKey in a constrained grant).
//
// The vendor's side: the key is in another account than Custody's role, so AWS also requires
// the role's own IAM policy to allow each call (vendorIamPolicy); a grant needs no IAM policy.

/** The key-policy actions Custody needs, conditioned on the tenant's encryption context. */
export const CRYPTO_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"] as const;
/** The grant operations Custody needs: one grant, constrained to the tenant's context. */
export const GRANT_OPERATIONS = ["DescribeKey", "GenerateDataKey", "Decrypt", "Encrypt"] as const;

export type GrantInstructions = {
  /** Statements to add to the key policy's "Statement" array, as formatted JSON. */
  policyStatements: string;
  /** The equivalent `aws kms create-grant` command (one grant). */
  createGrantCommands: string;
};

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\-.:/=@+,]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function grantInstructions(input: {
  vendorPrincipalArn: string;
  keyArn: string;
  region: string;
  tenantId: string;
  tenantSlug: string;
}): GrantInstructions {
  const sidSuffix = input.tenantSlug.replace(/[^A-Za-z0-9]/g, "");
  const statements = [
    {
      Sid: `CustodyDescribeKey${sidSuffix}`,
      Effect: "Allow",
      Principal: { AWS: input.vendorPrincipalArn },
      Action: "kms:DescribeKey",
      Resource: "*",
    },
    {
      Sid: `CustodyUseKeyForTenant${sidSuffix}`,
      Effect: "Allow",
      Principal: { AWS: input.vendorPrincipalArn },
      Action: [...CRYPTO_ACTIONS],
      Resource: "*",
      Condition: { StringEquals: { [`kms:EncryptionContext:${TENANT_CONTEXT_KEY}`]: input.tenantId } },
    },
  ];
  const constraints = JSON.stringify({ EncryptionContextSubset: { [TENANT_CONTEXT_KEY]: input.tenantId } });
  const command = [
    "aws kms create-grant",
    `--region ${shellQuote(input.region)}`,
    `--key-id ${shellQuote(input.keyArn)}`,
    `--grantee-principal ${shellQuote(input.vendorPrincipalArn)}`,
    // So Custody can retire the grant itself when the tenant revokes access.
    `--retiring-principal ${shellQuote(input.vendorPrincipalArn)}`,
    `--operations ${GRANT_OPERATIONS.join(" ")}`,
    `--constraints ${shellQuote(constraints)}`,
    `--name ${shellQuote(`custody-${input.tenantSlug}`)}`,
  ].join(" ");
  return {
    policyStatements: JSON.stringify(statements, null, 2),
    createGrantCommands: command,
  };
}

// The vendor's side (its role's IAM policy) lives with the AWS provider.
export { vendorIamCommand, vendorIamPolicy } from "@/lib/kms/providers/aws/vendor-policy";

/**
 * A whole key policy as a customer would write it: their account administers the key, and
 * Custody's principal may use it for each of `tenants`. Used by the demo seed and the tests to
 * play the customer; the console shows only the statements.
 */
export function keyPolicyAdmitting(input: {
  accountId: string;
  vendorPrincipalArn: string;
  tenants: Array<{ tenantId: string; tenantSlug: string }>;
}): string {
  const statements = input.tenants.flatMap(
    (tenant) =>
      JSON.parse(
        grantInstructions({ vendorPrincipalArn: input.vendorPrincipalArn, keyArn: "*", region: "*", ...tenant }).policyStatements,
      ) as object[],
  );
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "EnableIAMUserPermissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${input.accountId}:root` }, Action: "kms:*", Resource: "*" },
      ...statements,
    ],
  });
}
