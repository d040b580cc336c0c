import { TENANT_CONTEXT_KEY } from "./encryption-context";

// What the customer adds on their side so Custody's AWS principal may use their key for their
// tenant only. Two statements, because DescribeKey carries no encryption context: a condition
// on the context would make AWS deny it. Likewise two grants: AWS refuses a grant that has
// encryption-context constraints and a non-cryptographic operation such as DescribeKey.

export const CRYPTO_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"] as const;

export type GrantInstructions = {
  /** Statements to add to the key policy's "Statement" array, as formatted JSON. */
  policyStatements: string;
  /** Equivalent `aws kms create-grant` commands, one per line. */
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
  const common = [
    "aws kms create-grant",
    `--region ${shellQuote(input.region)}`,
    `--key-id ${shellQuote(input.keyArn)}`,
    `--grantee-principal ${shellQuote(input.vendorPrincipalArn)}`,
    // So Custody can retire the grant itself when the tenant revokes access.
    `--retiring-principal ${shellQuote(input.vendorPrincipalArn)}`,
  ].join(" ");
  const commands = [
    `${common} --operations Encrypt Decrypt GenerateDataKey GenerateDataKeyWithoutPlaintext ReEncryptFrom ReEncryptTo --constraints ${shellQuote(constraints)} --name ${shellQuote(`custody-${input.tenantSlug}`)}`,
    `${common} --operations DescribeKey --name ${shellQuote(`custody-${input.tenantSlug}-describe`)}`,
  ];
  return {
    policyStatements: JSON.stringify(statements, null, 2),
    createGrantCommands: commands.join("\n"),
  };
}

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
