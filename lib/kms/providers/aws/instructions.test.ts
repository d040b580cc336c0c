import { describe, expect, it } from "vitest";
import { grantInstructions, vendorIamPolicy } from "./instructions";

const input = {
  vendorPrincipalArn: "arn:aws:iam::999988887777:role/custody-vendor",
  keyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  region: "eu-west-1",
  tenantId: "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f",
  tenantSlug: "acme-corp",
};

/** Splits a shell command line into words the way sh would for these (quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2]!);
  return words;
}

describe("grantInstructions", () => {
  it("produces valid policy JSON scoping the vendor to this tenant's context", () => {
    const statements = JSON.parse(grantInstructions(input).policyStatements);
    expect(statements).toHaveLength(2);
    const [describe, use] = statements;
    expect(describe).toMatchObject({ Effect: "Allow", Principal: { AWS: input.vendorPrincipalArn }, Action: "kms:DescribeKey" });
    expect(describe.Condition).toBeUndefined();
    // Least privilege: only what Custody calls (no Encrypt, ReEncrypt*, GenerateDataKeyWithoutPlaintext).
    expect(use.Action).toEqual(["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"]);
    expect(use.Condition).toEqual({ StringEquals: { "kms:EncryptionContext:tenant_id": input.tenantId } });
    expect(statements.map((s: { Sid: string }) => s.Sid).every((sid: string) => /^[A-Za-z0-9]+$/.test(sid))).toBe(true);
  });

  it("produces one create-grant command, constrained to the tenant, with DescribeKey in the same grant", () => {
    const lines = grantInstructions(input).createGrantCommands.split("\n");
    expect(lines).toHaveLength(1);
    const words = shellWords(lines[0]!);
    expect(words.slice(0, 3)).toEqual(["aws", "kms", "create-grant"]);
    const arg = (name: string) => words[words.indexOf(name) + 1];
    expect(arg("--key-id")).toBe(input.keyArn);
    expect(arg("--grantee-principal")).toBe(input.vendorPrincipalArn);
    expect(arg("--retiring-principal")).toBe(input.vendorPrincipalArn);
    expect(arg("--region")).toBe("eu-west-1");
    expect(JSON.parse(arg("--constraints")!)).toEqual({ EncryptionContextSubset: { tenant_id: input.tenantId } });
    expect(words.slice(words.indexOf("--operations") + 1, words.indexOf("--constraints"))).toEqual(["DescribeKey", "GenerateDataKey", "Decrypt", "Encrypt"]);
  });

  it("gives the vendor an IAM policy for exactly Custody's calls, the crypto ones only with Custody's context key", () => {
    const policy = JSON.parse(vendorIamPolicy("arn:aws:iam::999988887777:role/custody"));
    const actions = policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.sort()).toEqual(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]);
    const crypto = policy.Statement.find((s: { Sid: string }) => s.Sid === "CustodyUseCustomerKeysPerTenant");
    expect(crypto.Condition.Null["kms:EncryptionContext:tenant_id"]).toBe("false");
    // Only while the caller is in the vendor's account: a copy attached elsewhere allows nothing.
    for (const statement of policy.Statement) expect(statement.Condition.StringEquals["kms:CallerAccount"]).toBe("999988887777");
    expect(crypto.Condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]).toEqual(["tenant_id"]);
  });
});
