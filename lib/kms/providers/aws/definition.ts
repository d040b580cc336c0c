import { z } from "zod";
import type { Config } from "@/lib/config";
import { isAppError } from "@/lib/errors";
import type { KmsProviderDefinition, RevocationHandles } from "@/lib/kms/provider";
import { type Partition, keyArnSchema } from "./arn";
import { awsDetails, toKeyDetails } from "./details";
import { TENANT_CONTEXT_KEY } from "./encryption-context";
import { toKmsError, type AwsKmsOperation } from "./errors";
import { parseGrantIds } from "./grant-ids";
import { AWS_ICON } from "./icon";
import { grantInstructions, vendorIamCommand, vendorIamPolicy } from "./instructions";
import { createAwsKmsClient } from "./kms-client";
import { awsKmsSettingsOf, vendorPrincipalArnOf } from "./settings";

// AWS KMS as a Custody KMS provider: the key ARN is the reference, the key policy or a grant is
// the customer's access, GenerateDataKey / Decrypt (and Encrypt, rotating to a new key) with the tenant's encryption context wrap
// and unwrap the tenant key, and revocation retires the grants the customer recorded.

const GRANT_LIST_MAX = 2000;
/** Stands for the vendor's account in the set-up texts until a role is configured. */
const PLACEHOLDER_ACCOUNT = "000000000000";

const grantHandles: RevocationHandles = {
  field: "grantIds",
  label: "Grant ids (optional)",
  hint: "If you gave Custody access with grants: their GrantId values, separated by spaces or new lines. Custody retires them when you revoke access.",
  parse: parseGrantIds,
  read: (details) => awsDetails({ details }).grantIds,
  write: (details, handles) => toKeyDetails({ ...awsDetails({ details }), grantIds: handles }),
};

function registrationSchema(config: Config) {
  return z
    .object({
      arn: keyArnSchema(config.KMS_PARTITION as Partition),
      grantIds: z.string().trim().max(GRANT_LIST_MAX, "That is too long for a list of grant ids.").optional(),
    })
    .transform((input, ctx) => {
      let grantIds: string[] = [];
      try {
        grantIds = parseGrantIds(input.grantIds);
      } catch (error) {
        ctx.addIssue({ code: "custom", path: ["grantIds"], message: isAppError(error) ? error.message : "Not a list of grant ids." });
        return z.NEVER;
      }
      const { arn, partition, region, accountId, multiRegion } = input.arn;
      return { ref: arn, details: toKeyDetails({ partition, region, accountId, multiRegion, grantIds }) };
    });
}

export const awsKmsProvider: KmsProviderDefinition = {
  name: "aws",
  display: {
    label: "AWS KMS",
    icon: AWS_ICON,
    referenceLabel: "Key ARN",
    location: (key) => awsDetails(key).region || null,
    facts: (key) => {
      const details = awsDetails(key);
      return [`account ${details.accountId}`, ...(details.multiRegion ? ["multi-Region key"] : [])];
    },
    tenantBinding: (tenantId) => ({ label: "Encryption context", value: `${TENANT_CONTEXT_KEY} = ${tenantId}` }),
  },
  configured: (config) => vendorPrincipalArnOf(config) !== undefined,
  registration: {
    fields: [
      {
        name: "arn",
        label: "KMS key ARN",
        hint: "The key's own ARN (not an alias), e.g. arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…. Multi-Region keys (mrk-…) work too.",
        code: true,
      },
      { name: grantHandles.field, label: grantHandles.label, hint: grantHandles.hint, optional: true, code: true },
    ],
    schema: registrationSchema,
  },
  createClient: (config) => createAwsKmsClient(awsKmsSettingsOf(config).provider),
  toKmsError: (error, operation) => toKmsError(error, operation as AwsKmsOperation),
  instructions: ({ key, tenant, config }) => {
    const { policyStatements, createGrantCommands } = grantInstructions({
      vendorPrincipalArn: vendorPrincipalArnOf(config) ?? "",
      keyArn: key.ref,
      region: awsDetails(key).region,
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
    });
    return [
      {
        id: "policy-statements",
        title: "Add these statements to the key's policy",
        text: "Add them to the key policy's Statement array. They let Custody's AWS principal call only DescribeKey, and GenerateDataKey, Decrypt and Encrypt with this tenant's encryption context — the calls Custody makes (Encrypt only when you rotate to this key: Custody re-wraps the tenant keys your earlier key wrapped). Custody's role is in the vendor's AWS account; the vendor attaches its own IAM policy there, nothing for you to do.",
        code: policyStatements,
        language: "json",
      },
      {
        id: "grant-commands",
        title: "Or, instead, create one grant",
        text: "The equivalent grant with the AWS CLI: the encryption-context constraint applies to GenerateDataKey, Decrypt and Encrypt (DescribeKey carries no context). Record its GrantId with the key, so Custody can retire it when you revoke.",
        code: createGrantCommands,
        language: "shell",
      },
    ];
  },
  vendorSetup: (config) => {
    // Before a role is configured, the same texts with a placeholder where the vendor's account goes.
    const configured = vendorPrincipalArnOf(config);
    const role = configured ?? `arn:${config.KMS_PARTITION}:iam::${PLACEHOLDER_ACCOUNT}:role/custody`;
    const shown = (text: string) => (configured ? text : text.replaceAll(PLACEHOLDER_ACCOUNT, "<your account id>"));
    return [
      {
        id: "vendor-role-arn",
        title: "Custody's AWS role",
        text: "Customers' keys live in their own AWS accounts; their key policies (or grants) name this principal, the one Custody runs as (KMS_VENDOR_PRINCIPAL_ARN).",
        code: shown(role),
        language: "text",
      },
      {
        id: "vendor-iam-policy",
        title: "Its IAM policy",
        text: "For a call across accounts AWS requires both the customer's key policy (or grant) and this role's own IAM policy to allow it. Attach this least-privilege policy to the role in your account: exactly the calls Custody makes, the cryptographic ones only with Custody's tenant encryption context. Save it as custody-kms-policy.json.",
        code: shown(vendorIamPolicy(role)),
        language: "json",
      },
      {
        id: "vendor-iam-command",
        title: "Attach it to the role",
        text: "In your AWS account. A tenant whose verification failed because this policy is missing shows \u201cverify failed: your IAM policy\u201d in the list above.",
        code: shown(vendorIamCommand(role)),
        language: "shell",
      },
    ];
  },
  verify: {
    summary:
      "Runs GenerateDataKey and Decrypt with this tenant's encryption context, then DescribeKey, live against your KMS. Success makes this key the tenant's primary.",
    propagationNote: "AWS can take a few minutes to apply a new grant or key-policy statement; Verify keeps trying for up to five minutes.",
    waiting: "AWS can take a few minutes to apply a new grant or key-policy statement",
    steps: {
      generate: { name: "GenerateDataKey", success: "KMS generated a 256-bit tenant key under this key, bound to the tenant's encryption context." },
      unwrap: { name: "Decrypt", success: "KMS unwrapped the tenant key with the tenant's context." },
      describe: { name: "DescribeKey", success: "Key is enabled." },
    },
    // A new grant or key-policy statement can take AWS up to about five minutes to apply.
    retryWhilePropagating: ["access_denied"],
  },
  revocation: {
    summary: `Custody refuses every call for the tenant at once. On AWS it then retires each grant recorded with a key (its ${TENANT_CONTEXT_KEY}-constrained grant); key-policy statements stay until you remove them.`,
    handles: grantHandles,
    makeFinal: "disable the key in AWS KMS (aws kms disable-key) or remove Custody's statements from its key policy",
  },
};
