import { createPrivateKey, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authenticate, makeServiceAccountKey, serviceAccountFrom } from "./auth";
import { GoogleApiError } from "./errors";

// The development Cloud KMS admits a caller only with a JWT signed by a key it knows for that
// service account, fresh, for Cloud KMS: each forgery below is refused.

const NOW = Date.UTC(2026, 11, 2, 8, 0, 0);
const email = "custody@custody-vendor.iam.gserviceaccount.com";
const { file, publicKeyPem } = makeServiceAccountKey(email, "custody-vendor");
const accounts = [serviceAccountFrom({ email, keyId: file.private_key_id, publicKeyPem })];
const other = makeServiceAccountKey(email, "custody-vendor").file;

type Claims = Record<string, unknown>;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

function jwt(claims: Claims, options: { key?: string; kid?: string; alg?: string } = {}): string {
  const head = `${b64({ alg: options.alg ?? "RS256", typ: "JWT", kid: options.kid ?? file.private_key_id })}.${b64(claims)}`;
  const signature = sign("RSA-SHA256", Buffer.from(head), createPrivateKey(options.key ?? file.private_key)).toString("base64url");
  return `${head}.${signature}`;
}

const iat = NOW / 1000 - 10;
const good: Claims = { iss: email, sub: email, scope: "https://www.googleapis.com/auth/cloud-platform", iat, exp: iat + 3600 };

function status(header: string | undefined): string {
  try {
    authenticate(header, accounts, NOW);
    return "admitted";
  } catch (error) {
    return error instanceof GoogleApiError ? error.status : "crashed";
  }
}

describe("development Cloud KMS authentication", () => {
  it("admits a self-signed JWT with Cloud KMS's scope or audience", () => {
    expect(status(`Bearer ${jwt(good)}`)).toBe("admitted");
    const { scope: _scope, ...noScope } = good;
    expect(status(`Bearer ${jwt({ ...noScope, aud: "https://cloudkms.googleapis.com/" })}`)).toBe("admitted");
  });

  it("refuses forged, foreign, stale and misdirected tokens with UNAUTHENTICATED", () => {
    const refused = [
      undefined,
      "Basic abc",
      `Bearer ${jwt(good, { key: other.private_key })}`, // signed with another key under the known kid
      `Bearer ${jwt(good, { key: other.private_key, kid: other.private_key_id })}`, // a key the server does not know
      `Bearer ${jwt(good, { alg: "none" })}`,
      `Bearer ${jwt({ ...good, iss: "admin@acme-customer.iam.gserviceaccount.com" })}`,
      `Bearer ${jwt({ ...good, sub: "admin@acme-customer.iam.gserviceaccount.com" })}`,
      `Bearer ${jwt({ ...good, exp: NOW / 1000 - 120, iat: NOW / 1000 - 3700 })}`, // expired
      `Bearer ${jwt({ ...good, exp: iat + 7200 })}`, // lives longer than an hour
      `Bearer ${jwt({ ...good, scope: "https://www.googleapis.com/auth/devstorage.read_only" })}`,
      `Bearer ${jwt(good).replace(/\.[^.]+\./, `.${b64({ ...good, iss: email, sub: email, exp: iat + 60 })}.`)}`, // claims edited after signing
    ];
    expect(refused.map(status)).toEqual(refused.map(() => "UNAUTHENTICATED"));
  });
});
