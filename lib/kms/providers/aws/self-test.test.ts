import { describe, expect, it } from "vitest";
import { identityMatches } from "./self-test";

describe("identityMatches", () => {
  const role = "arn:aws:iam::999988887777:role/service/custody";
  it("takes an assumed-role session for its role (a session ARN carries no role path)", () => {
    expect(identityMatches("arn:aws:sts::999988887777:assumed-role/custody/custody", role)).toBe(true);
  });
  it("refuses another role, account or partition, and a user for a role", () => {
    expect(identityMatches("arn:aws:sts::999988887777:assumed-role/custody-other/custody", role)).toBe(false);
    expect(identityMatches("arn:aws:sts::111122223333:assumed-role/custody/custody", role)).toBe(false);
    expect(identityMatches("arn:aws-cn:sts::999988887777:assumed-role/custody/custody", role)).toBe(false);
    expect(identityMatches("arn:aws:iam::999988887777:user/custody", role)).toBe(false);
  });
  it("takes a user only for itself", () => {
    expect(identityMatches("arn:aws:iam::999988887777:user/custody", "arn:aws:iam::999988887777:user/custody")).toBe(true);
    expect(identityMatches("arn:aws:sts::999988887777:assumed-role/custody/s", "arn:aws:iam::999988887777:user/custody")).toBe(false);
  });
});
