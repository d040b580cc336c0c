import { describe, expect, it } from "vitest";
import { grantInstructions } from "./grant-instructions";

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
    expect(use.Action).toEqual(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]);
    expect(use.Condition).toEqual({ StringEquals: { "kms:EncryptionContext:tenant_id": input.tenantId } });
    expect(statements.map((s: { Sid: string }) => s.Sid).every((sid: string) => /^[A-Za-z0-9]+$/.test(sid))).toBe(true);
  });

  it("produces create-grant commands a shell parses into the right arguments", () => {
    const [crypto, describe] = grantInstructions(input).createGrantCommands.split("\n");
    const words = shellWords(crypto!);
    expect(words.slice(0, 3)).toEqual(["aws", "kms", "create-grant"]);
    const arg = (name: string) => words[words.indexOf(name) + 1];
    expect(arg("--key-id")).toBe(input.keyArn);
    expect(arg("--grantee-principal")).toBe(input.vendorPrincipalArn);
    expect(arg("--retiring-principal")).toBe(input.vendorPrincipalArn);
    expect(arg("--region")).toBe("eu-west-1");
    expect(JSON.parse(arg("--constraints")!)).toEqual({ EncryptionContextSubset: { tenant_id: input.tenantId } });
    expect(words.slice(words.indexOf("--operations") + 1, words.indexOf("--constraints"))).toEqual([
      "Encrypt",
      "Decrypt",
      "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext",
      "ReEncryptFrom",
      "ReEncryptTo",
    ]);
    expect(shellWords(describe!)).toContain("DescribeKey");
    expect(describe).not.toContain("--constraints");
  });
});
