import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhookBody, verifyWebhookSignature } from "./webhook-signature";

const SECRET = "whsec_test_5e0d8c";
const BODY = '{"events":[{"id":"t:1"}]}';
const NOW = 1_795_000_000;

describe("webhook signatures", () => {
  it("signs HMAC-SHA256 over '<t>.<body>' as documented", () => {
    const expected = createHmac("sha256", SECRET).update(`${NOW}.${BODY}`).digest("hex");
    expect(signWebhookBody(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });

  it("verifies its own signature, from a string or the raw bytes", () => {
    const header = signWebhookBody(SECRET, BODY, NOW);
    expect(verifyWebhookSignature(SECRET, header, BODY, 300, NOW)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, Buffer.from(BODY), 300, NOW + 300)).toBe(true);
  });

  it("rejects a wrong secret, a changed body and a moved timestamp", () => {
    const header = signWebhookBody(SECRET, BODY, NOW);
    expect(verifyWebhookSignature("whsec_other", header, BODY, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, BODY.replace("t:1", "t:2"), 300, NOW)).toBe(false);
    const moved = header.replace(`t=${NOW}`, `t=${NOW + 1}`);
    expect(verifyWebhookSignature(SECRET, moved, BODY, 300, NOW)).toBe(false);
  });

  it("rejects replays outside the tolerance, in either direction", () => {
    const header = signWebhookBody(SECRET, BODY, NOW);
    expect(verifyWebhookSignature(SECRET, header, BODY, 300, NOW + 301)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, BODY, 300, NOW - 301)).toBe(false);
  });

  it("accepts any one matching v1 among several and skips unknown schemes", () => {
    const good = signWebhookBody(SECRET, BODY, NOW).split("v1=")[1]!;
    const header = `t=${NOW},v1=${"0".repeat(64)},v2=whatever,v1=${good}`;
    expect(verifyWebhookSignature(SECRET, header, BODY, 300, NOW)).toBe(true);
  });

  it.each([
    [undefined],
    [""],
    ["garbage"],
    [`t=${NOW}`],
    [`v1=${"a".repeat(64)}`],
    [`t=${NOW},t=${NOW},v1=${"a".repeat(64)}`],
    [`t=soon,v1=${"a".repeat(64)}`],
    [`t=${NOW},v1=${"A".repeat(64)}`],
    [`t=${NOW},v1=abc`],
  ])("rejects a malformed header %j", (header) => {
    expect(verifyWebhookSignature(SECRET, header, BODY, 300, NOW)).toBe(false);
  });
});
