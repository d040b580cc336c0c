import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRefusedEmail, sealRefusedEmail } from "./refused-sign-in";

describe("the refused sign-in cookie", () => {
  beforeEach(() => {
    process.env.NEXTAUTH_SECRET = "x".repeat(32);
  });
  afterEach(() => {
    delete process.env.NEXTAUTH_SECRET;
  });

  it("gives back the email it sealed", () => {
    expect(openRefusedEmail(sealRefusedEmail("Oscar@example.com"))).toBe("Oscar@example.com");
  });

  it("refuses a forged, altered or expired value", () => {
    const sealed = sealRefusedEmail("oscar@example.com");
    const [, expires, signature] = sealed.split(".");
    const forged = `${Buffer.from("ceo@bank.example").toString("base64url")}.${expires}.${signature}`;
    expect(openRefusedEmail(forged)).toBeNull();
    expect(openRefusedEmail(`${sealed}x`)).toBeNull();
    expect(openRefusedEmail("security-team@custody.example")).toBeNull();
    expect(openRefusedEmail(sealRefusedEmail("oscar@example.com", Date.now() - 301_000))).toBeNull();
    process.env.NEXTAUTH_SECRET = "y".repeat(32);
    expect(openRefusedEmail(sealed)).toBeNull();
  });
});
