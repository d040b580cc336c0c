import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/config";
import { awsKmsProvider } from "./definition";

// The AWS provider's registration, display and revocation handles, as the console and
// lib/keys use them through the provider interface.

const config = parseEnv({ KMS_VENDOR_PRINCIPAL_ARN: "arn:aws:iam::999988887777:role/custody" }, "library");
const ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const GRANT = "0a".repeat(32);

describe("the AWS provider definition", () => {
  it("turns a key ARN (and grant ids) into the canonical reference and details", () => {
    const parsed = awsKmsProvider.registration.schema(config).parse({ arn: ` ${ARN} `, grantIds: `${GRANT}\n${GRANT.toUpperCase()}` });
    expect(parsed).toEqual({
      ref: ARN,
      details: { partition: "aws", region: "eu-west-1", accountId: "111122223333", multiRegion: false, grantIds: [GRANT] },
    });
    const key = { provider: "aws" as const, ...parsed };
    expect(awsKmsProvider.display.location(key)).toBe("eu-west-1");
    expect(awsKmsProvider.display.facts(key)).toEqual(["account 111122223333"]);
    expect(awsKmsProvider.revocation.handles?.read(key.details)).toEqual([GRANT]);
    expect(awsKmsProvider.revocation.handles?.read(awsKmsProvider.revocation.handles.write(key.details, []))).toEqual([]);
  });

  it("puts each refusal on its field, in AWS's words", () => {
    const result = awsKmsProvider.registration.schema(config).safeParse({ arn: ARN.replace("key/", "alias/"), grantIds: "nope" });
    expect(result.success).toBe(false);
    const byField = Object.fromEntries(result.error!.issues.map((issue) => [issue.path.join("."), issue.message]));
    expect(byField.arn).toMatch(/alias ARN/);
    const grants = awsKmsProvider.registration.schema(config).safeParse({ arn: ARN, grantIds: "nope" });
    expect(grants.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([["grantIds", expect.stringMatching(/is not a grant id/)]]);
  });

  it("is offered only where Custody's AWS principal is configured, and its instructions name it", () => {
    expect(awsKmsProvider.configured(config)).toBe(true);
    expect(awsKmsProvider.configured(parseEnv({}, "library"))).toBe(false);
    const blocks = awsKmsProvider.instructions({
      key: { provider: "aws", ref: ARN, details: { region: "eu-west-1" } },
      tenant: { id: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f", slug: "acme" },
      config,
    });
    expect(blocks.map((block) => block.id)).toEqual(["policy-statements", "grant-commands"]);
    expect(blocks[0]!.code).toContain("arn:aws:iam::999988887777:role/custody");
    expect(blocks[1]!.code).toContain(`--key-id ${ARN}`);
  });

  it("gives the vendor its role's ARN, IAM policy and command, with a placeholder account until a role is configured", () => {
    const blocks = Object.fromEntries(awsKmsProvider.vendorSetup(config).map((block) => [block.id, block.code ?? ""]));
    expect(blocks["vendor-role-arn"]).toBe("arn:aws:iam::999988887777:role/custody");
    expect(JSON.parse(blocks["vendor-iam-policy"]!).Statement[0].Condition.StringEquals["kms:CallerAccount"]).toBe("999988887777");
    expect(blocks["vendor-iam-command"]).toContain("--role-name custody");

    const unconfigured = Object.fromEntries(awsKmsProvider.vendorSetup(parseEnv({}, "library")).map((block) => [block.id, block.code ?? ""]));
    expect(unconfigured["vendor-role-arn"]).toBe("arn:aws:iam::<your account id>:role/custody");
    expect(unconfigured["vendor-iam-policy"]).toContain('"kms:CallerAccount": "<your account id>"');
  });
});
