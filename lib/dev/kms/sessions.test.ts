import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { issueSession, readSession } from "./sessions";

const key = randomBytes(32);
const NOW = Date.UTC(2030, 0, 2, 3, 4, 5);
const session = issueSession(key, { roleArn: "arn:aws:iam::999988887777:role/custody", sessionName: "custody", expiresAt: NOW + 900_000 });
const code = (fn: () => unknown) => {
  try {
    fn();
    return "accepted";
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe("session credentials", () => {
  it("read back as issued, with the same secret, until they expire", () => {
    expect(readSession(key, session.accessKeyId, session.sessionToken, NOW)).toEqual({
      accessKeyId: session.accessKeyId,
      roleArn: session.roleArn,
      sessionName: "custody",
      expiresAt: session.expiresAt,
      secretAccessKey: session.secretAccessKey,
    });
    expect(code(() => readSession(key, session.accessKeyId, session.sessionToken, session.expiresAt))).toBe("ExpiredTokenException");
  });

  it("cannot be extended, moved to another key id, or read under another server's key", () => {
    const [prefix, payload, mac] = [session.sessionToken.slice(0, 6), ...session.sessionToken.slice(6).split(".")];
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8"));
    const extended = Buffer.from(JSON.stringify({ ...claims, expiresAt: NOW + 86_400_000 })).toString("base64url");
    expect(code(() => readSession(key, session.accessKeyId, `${prefix}${extended}.${mac}`, NOW))).toBe("UnrecognizedClientException");
    const other = issueSession(key, { roleArn: session.roleArn, sessionName: "other", expiresAt: NOW + 900_000 });
    expect(code(() => readSession(key, other.accessKeyId, session.sessionToken, NOW))).toBe("UnrecognizedClientException");
    expect(code(() => readSession(randomBytes(32), session.accessKeyId, session.sessionToken, NOW))).toBe("UnrecognizedClientException");
    expect(code(() => readSession(key, session.accessKeyId, undefined, NOW))).toBe("UnrecognizedClientException");
  });
});
