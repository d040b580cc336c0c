import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { KmsError, unrecognizedClient } from "./errors";

// Temporary credentials, as STS hands them out: an access key id (ASIA…), a secret access key
// and a session token, valid until an expiry. The server keeps no session table: the token
// carries the session (role, session name, expiry, access key id) under an HMAC with a key
// derived from the master key, and the secret is an HMAC of the access key id, so sessions
// survive a restart and cannot be forged or extended. A request signed with session
// credentials must carry the token (x-amz-security-token); a token whose expiry has passed is
// refused with ExpiredTokenException, as KMS and STS do.

export type Session = {
  accessKeyId: string;
  roleArn: string;
  sessionName: string;
  /** Epoch ms. */
  expiresAt: number;
};

export type IssuedSession = Session & { secretAccessKey: string; sessionToken: string };

const TOKEN_PREFIX = "CDKv1.";
const SESSION_KEY_ID = /^ASIA[A-Z2-7]{16}$/;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export const expiredToken = () => new KmsError("ExpiredTokenException", "The security token included in the request is expired");

export function isSessionAccessKeyId(accessKeyId: string): boolean {
  return SESSION_KEY_ID.test(accessKeyId);
}

function mac(key: Buffer, purpose: string, data: string): Buffer {
  return createHmac("sha256", key).update(`${purpose}\0${data}`).digest();
}

function secretFor(key: Buffer, accessKeyId: string): string {
  return mac(key, "secret", accessKeyId).subarray(0, 30).toString("base64");
}

export function issueSession(key: Buffer, session: Omit<Session, "accessKeyId">): IssuedSession {
  const accessKeyId = `ASIA${[...randomBytes(16)].map((b) => BASE32[b % 32]).join("")}`;
  const claims: Session = { accessKeyId, ...session };
  const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  const sessionToken = `${TOKEN_PREFIX}${payload}.${mac(key, "token", payload).toString("base64url")}`;
  return { ...claims, secretAccessKey: secretFor(key, accessKeyId), sessionToken };
}

/**
 * The session a request's access key id and token stand for, with its secret; throws
 * UnrecognizedClientException for a token that is not ours or not this key's, and
 * ExpiredTokenException once it has expired (at `now`, epoch ms).
 */
export function readSession(key: Buffer, accessKeyId: string, token: string | undefined, now: number): Session & { secretAccessKey: string } {
  if (token === undefined || !token.startsWith(TOKEN_PREFIX)) throw unrecognizedClient();
  const [payload, signature, ...extra] = token.slice(TOKEN_PREFIX.length).split(".");
  if (!payload || !signature || extra.length > 0) throw unrecognizedClient();
  const expected = mac(key, "token", payload);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unrecognizedClient();
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Session;
  if (claims.accessKeyId !== accessKeyId) throw unrecognizedClient();
  if (now >= claims.expiresAt) throw expiredToken();
  return { ...claims, secretAccessKey: secretFor(key, accessKeyId) };
}
