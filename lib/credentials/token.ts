import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { SERVICE_TOKEN } from "@/lib/validation/keyservice";

// A service token is `csk_<credential id: 32 lower-case hex>_<secret: 32 random bytes, base64url>`.
// The id part lets the key service find the credential with one indexed read; only the secret's
// sha256 is stored, so a leaked table does not authenticate anyone.

const SECRET_BYTES = 32;

/** The credential id and secret a token carries, or null for anything that is not a well-formed token. */
export function parseServiceToken(token: string): { id: string; secret: string } | null {
  if (typeof token !== "string" || token.length !== 4 + 32 + 1 + 43) return null;
  const match = SERVICE_TOKEN.exec(token);
  if (!match) return null;
  const hex = match[1]!;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2]! };
}

/** sha256 of the secret, as stored in service_credentials.secret_hash (compare with timingSafeEqual). */
export function hashServiceSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** A fresh secret for credential `id`: the token to show once, and the hash to store. */
export function newServiceSecret(id: string): { token: string; secretHash: Uint8Array<ArrayBuffer> } {
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  return { token: `csk_${id.replaceAll("-", "").toLowerCase()}_${secret}`, secretHash: new Uint8Array(hashServiceSecret(secret)) };
}

/** The non-secret start of a credential's tokens (`csk_1a2b3c4d…`), to tell credentials apart. */
export function tokenPrefixOf(id: string): string {
  return `csk_${id.replaceAll("-", "").slice(0, 8)}…`;
}
