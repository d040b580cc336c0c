import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import { GoogleApiError } from "./errors";

// Authentication as Google's APIs do it for a service account's key file. For Cloud KMS the
// client library (google-auth-library 11, as @google-cloud/kms 6 configures it) never
// exchanges the key for an access token: it signs a JWT with the key's private half (RS256,
// `kid` = the key id, iss = sub = the account, scope `…/cloud-platform …/cloudkms`, or audience
// `https://cloudkms.googleapis.com/`, at most an hour) and sends it as the Bearer token, a
// "self-signed JWT". The server checks it against the public half of the account's key it
// knows. (The library ignores a key file's `token_uri`; its token exchange always goes to
// oauth2.googleapis.com, so a development token endpoint would never be called.)

export type ServiceAccount = { email: string; keyId: string; publicKey: KeyObject; projectAdmin: boolean };

/** A service account's key file, as `gcloud iam service-accounts keys create` writes it. */
export type ServiceAccountKeyFile = {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
};

const SCOPES = ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/cloudkms"];
const AUDIENCE = "https://cloudkms.googleapis.com/";
const MAX_LIFETIME_S = 3600;
const SKEW_S = 60;

/** A new key for a service account: its key file (private) and the public half the server knows. */
export function makeServiceAccountKey(email: string, projectId: string): { file: ServiceAccountKeyFile; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    file: {
      type: "service_account",
      project_id: projectId,
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: String(BigInt(`0x${randomBytes(8).toString("hex")}`)),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
    },
  };
}

export function serviceAccountFrom(file: { email: string; keyId: string; publicKeyPem: string; projectAdmin?: boolean }): ServiceAccount {
  return { email: file.email, keyId: file.keyId, publicKey: createPublicKey(file.publicKeyPem), projectAdmin: file.projectAdmin === true };
}

const unauthenticated = () =>
  new GoogleApiError(
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
  );

type Claims = { iss?: unknown; sub?: unknown; aud?: unknown; scope?: unknown; iat?: unknown; exp?: unknown };

/** Verifies a JWT signed by one of `accounts`; returns the account and the claims. */
function verifyJwt(token: string, accounts: readonly ServiceAccount[], nowMs: number): { account: ServiceAccount; claims: Claims } {
  const parts = token.split(".");
  if (parts.length !== 3) throw unauthenticated();
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let claims: Claims;
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8")) as typeof header;
    claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8")) as Claims;
  } catch {
    throw unauthenticated();
  }
  const account = accounts.find((a) => a.keyId === header.kid && a.email === claims.iss);
  if (header.alg !== "RS256" || !account) throw unauthenticated();
  const signed = verify("RSA-SHA256", Buffer.from(`${headerPart}.${payloadPart}`), account.publicKey, Buffer.from(signaturePart, "base64url"));
  const now = nowMs / 1000;
  const { iat, exp } = claims;
  if (!signed || typeof iat !== "number" || typeof exp !== "number") throw unauthenticated();
  if (exp < now - SKEW_S || iat > now + SKEW_S || exp - iat > MAX_LIFETIME_S) throw unauthenticated();
  return { account, claims };
}

/** The service account behind an `Authorization: Bearer <self-signed JWT>` header; UNAUTHENTICATED otherwise. */
export function authenticate(authorization: string | undefined, accounts: readonly ServiceAccount[], nowMs: number): ServiceAccount {
  const match = /^Bearer (\S+)$/.exec(authorization ?? "");
  if (!match) throw unauthenticated();
  const { account, claims } = verifyJwt(match[1]!, accounts, nowMs);
  const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
  if (claims.sub !== account.email || (claims.aud !== AUDIENCE && !scopes.some((s) => SCOPES.includes(s)))) throw unauthenticated();
  return account;
}
