import { createHmac, timingSafeEqual } from "node:crypto";

// Webhook signatures. Each delivery carries
//   Custody-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// The timestamp is inside the MAC so a captured delivery cannot be replayed later with a
// fresh timestamp; the receiver rejects timestamps outside its tolerance. A header may carry
// several v1= values (reserved for secret rotation: one per active secret); any match passes.

export const SIGNATURE_HEADER = "Custody-Signature";
export const DEFAULT_TOLERANCE_SECONDS = 300;

function mac(secret: string, timestamp: number, body: string | Buffer): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
}

/** The Custody-Signature header value for `body`, signed at `now` (unix seconds). */
export function signWebhookBody(secret: string, body: string | Buffer, now: number = Math.floor(Date.now() / 1000)): string {
  return `t=${now},v1=${mac(secret, now, body).toString("hex")}`;
}

/**
 * Whether `header` is a valid Custody-Signature for the raw request `body` (exactly the bytes
 * received, before any JSON parsing) under `secret`, signed within `toleranceSeconds` of `now`.
 * Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Buffer,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  now: number = Math.floor(Date.now() / 1000),
): boolean {
  if (typeof header !== "string" || header.length > 4096) return false;
  let timestamp: number | null = null;
  const candidates: Buffer[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0) return false;
    if (key === "t") {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    } else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, "hex"));
    // Unknown schemes (a future v2) are skipped, not failed.
  }
  if (timestamp === null || candidates.length === 0) return false;
  if (Math.abs(now - timestamp) > toleranceSeconds) return false;
  const expected = mac(secret, timestamp, body);
  let ok = false;
  for (const candidate of candidates) ok = timingSafeEqual(candidate, expected) || ok;
  return ok;
}
