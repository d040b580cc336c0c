import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SERVICE_TOKEN } from "@/lib/validation/keyservice";
import { hashServiceSecret, newServiceSecret, parseServiceToken, tokenPrefixOf } from "./token";

const ID = "0f1e2d3c-4b5a-4697-8877-665544332211";
const HEX = "0f1e2d3c4b5a46978877665544332211";
const SECRET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-_0"; // 43 base64url characters

describe("parseServiceToken", () => {
  it("reads the credential id (as a UUID with dashes) and the secret", () => {
    expect(parseServiceToken(`csk_${HEX}_${SECRET}`)).toEqual({ id: ID, secret: SECRET });
  });

  it("reads what newServiceSecret issues, and the hash it stores is the secret's sha256", () => {
    const { token, secretHash } = newServiceSecret(ID);
    expect(token).toMatch(SERVICE_TOKEN);
    const parsed = parseServiceToken(token);
    expect(parsed?.id).toBe(ID);
    expect(Buffer.from(secretHash)).toEqual(createHash("sha256").update(parsed!.secret).digest());
    expect(Buffer.from(secretHash)).toEqual(hashServiceSecret(parsed!.secret));
    expect(newServiceSecret(ID).token).not.toBe(token);
  });

  it.each([
    ["empty", ""],
    ["the id only", `csk_${HEX}`],
    ["a wrong prefix", `sk_${HEX}_${SECRET}`],
    ["an upper-case prefix", `CSK_${HEX}_${SECRET}`],
    ["an upper-case id", `csk_${HEX.toUpperCase()}_${SECRET}`],
    ["a dashed id", `csk_${ID}_${SECRET}`],
    ["a short id", `csk_${HEX.slice(1)}_${SECRET}`],
    ["a long id", `csk_${HEX}0_${SECRET}`],
    ["a non-hex id", `csk_${HEX.slice(0, 31)}g_${SECRET}`],
    ["a short secret", `csk_${HEX}_${SECRET.slice(1)}`],
    ["a long secret", `csk_${HEX}_${SECRET}A`],
    ["standard base64 characters", `csk_${HEX}_${SECRET.slice(0, 41)}+/`],
    ["padding", `csk_${HEX}_${SECRET.slice(0, 42)}=`],
    ["a bearer prefix", `Bearer csk_${HEX}_${SECRET}`],
    ["surrounding space", ` csk_${HEX}_${SECRET}`],
    ["a trailing newline", `csk_${HEX}_${SECRET}\n`],
    ["a missing separator", `csk_${HEX}${SECRET}`],
  ])("refuses %s", (_what, token) => {
    expect(parseServiceToken(token)).toBeNull();
  });

  it("refuses values that are not strings", () => {
    for (const value of [null, undefined, 42, {}, [`csk_${HEX}_${SECRET}`]]) {
      expect(parseServiceToken(value as unknown as string)).toBeNull();
    }
  });
});

describe("tokenPrefixOf", () => {
  it("shows the start of the id part only", () => {
    expect(tokenPrefixOf(ID)).toBe("csk_0f1e2d3c…");
  });
});
