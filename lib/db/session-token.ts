import { createHash } from "node:crypto";

// Session cookies are bearer secrets. The database keeps only their SHA-256, so a copy of the
// sessions table (a backup, a dump, a read replica) signs nobody in: the cookie value cannot
// be recovered from what is stored. Tokens are 256-bit random values, so an unsalted hash is
// enough; there is nothing to guess.
export function hashSessionToken(sessionToken: string): string {
  return createHash("sha256").update(sessionToken, "utf8").digest("hex");
}
