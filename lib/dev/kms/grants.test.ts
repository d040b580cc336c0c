import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { constraintSatisfied, grantAllows, issueGrantToken, readGrantToken, withinParentGrant } from "./grants";
import type { GrantRecord } from "./model";
import type { Principal } from "./principals";

const vendor: Principal = { accessKeyId: "AKIAVENDOR00000000000", secretAccessKey: "x".repeat(16), arn: "arn:aws:iam::111122223333:role/vendor", principalArn: "arn:aws:iam::111122223333:role/vendor", accountId: "111122223333", admin: false };
const grant: GrantRecord = {
  grantId: "a".repeat(64),
  keyArn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  granteePrincipal: vendor.arn,
  operations: ["Decrypt", "DescribeKey", "CreateGrant"],
  constraint: { type: "EncryptionContextSubset", context: { tenant_id: "t-1" } },
  issuingAccount: "arn:aws:iam::111122223333:root",
  createdAt: 0,
};

describe("grant constraints", () => {
  it("match keys case-insensitively and values exactly", () => {
    const subset = grant.constraint;
    expect(constraintSatisfied(subset, { tenant_id: "t-1", more: "x" })).toBe(true);
    expect(constraintSatisfied(subset, { TENANT_ID: "t-1" })).toBe(true);
    expect(constraintSatisfied(subset, { tenant_id: "T-1" })).toBe(false);
    expect(constraintSatisfied(subset, undefined)).toBe(false);
    const equals = { type: "EncryptionContextEquals" as const, context: { tenant_id: "t-1" } };
    expect(constraintSatisfied(equals, { tenant_id: "t-1" })).toBe(true);
    expect(constraintSatisfied(equals, { tenant_id: "t-1", more: "x" })).toBe(false);
  });

  it("apply to cryptographic operations only", () => {
    expect(grantAllows(grant, vendor, "Decrypt", { tenant_id: "t-1" })).toBe(true);
    expect(grantAllows(grant, vendor, "Decrypt", { tenant_id: "t-2" })).toBe(false);
    expect(grantAllows(grant, vendor, "DescribeKey", undefined)).toBe(true);
    expect(grantAllows(grant, vendor, "Encrypt", { tenant_id: "t-1" })).toBe(false);
    expect(grantAllows(grant, { ...vendor, arn: "arn:aws:iam::111122223333:role/other", principalArn: "arn:aws:iam::111122223333:role/other" }, "Decrypt", { tenant_id: "t-1" })).toBe(false);
  });

  it("let a CreateGrant grant make only narrower grants", () => {
    expect(withinParentGrant(grant, ["Decrypt"], { type: "EncryptionContextSubset", context: { tenant_id: "t-1", x: "y" } })).toBe(true);
    expect(withinParentGrant(grant, ["Decrypt"], { type: "EncryptionContextEquals", context: { tenant_id: "t-1" } })).toBe(true);
    expect(withinParentGrant(grant, ["Decrypt"], undefined)).toBe(false);
    expect(withinParentGrant(grant, ["Decrypt"], { type: "EncryptionContextSubset", context: { tenant_id: "t-2" } })).toBe(false);
    expect(withinParentGrant(grant, ["Encrypt"], grant.constraint)).toBe(false);
  });
});

describe("grant tokens", () => {
  const key = randomBytes(32);

  it("identify their grant and cannot be forged or moved to another server's key", () => {
    const token = issueGrantToken(grant.grantId, key);
    expect(readGrantToken(token, key)).toBe(grant.grantId);
    expect(() => readGrantToken(token, randomBytes(32))).toThrow(expect.objectContaining({ code: "InvalidGrantTokenException" }));
    const forged = Buffer.from(token, "base64url");
    forged[5]! ^= 1;
    expect(() => readGrantToken(forged.toString("base64url"), key)).toThrow(expect.objectContaining({ code: "InvalidGrantTokenException" }));
    expect(() => readGrantToken("not-a-token", key)).toThrow(expect.objectContaining({ code: "InvalidGrantTokenException" }));
  });
});
