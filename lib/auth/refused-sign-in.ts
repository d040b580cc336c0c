import "server-only";
import { createHmac, timingSafeEqual } from "node:crypto";
import { getConfig } from "@/lib/config";

// A person the IdP signed in but Custody refused gets no session, yet should see which account
// was refused (often a personal one). The email travels in a short-lived, signed, httpOnly
// cookie, never in the URL, where anyone could put words in Custody's mouth.

export const REFUSED_COOKIE = "custody.refused-sign-in";
export const REFUSED_MAX_AGE_SECONDS = 300;

function mac(payload: string): string {
  return createHmac("sha256", getConfig().NEXTAUTH_SECRET ?? "").update(`refused-sign-in:${payload}`).digest("base64url");
}

export function sealRefusedEmail(email: string, now = Date.now()): string {
  const payload = `${Buffer.from(email).toString("base64url")}.${now + REFUSED_MAX_AGE_SECONDS * 1000}`;
  return `${payload}.${mac(payload)}`;
}

/** The email in a cookie value, if its signature holds and it has not expired. */
export function openRefusedEmail(value: string | undefined, now = Date.now()): string | null {
  const [email, expires, signature] = value?.split(".") ?? [];
  if (!email || !expires || !signature || !getConfig().NEXTAUTH_SECRET) return null;
  const expected = Buffer.from(mac(`${email}.${expires}`));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  if (Number(expires) < now) return null;
  return Buffer.from(email, "base64url").toString("utf8");
}
