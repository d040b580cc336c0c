import "server-only";
import { log } from "@/lib/log";

// A person who presses Cancel at the identity provider comes back to the OAuth callback with
// `error=access_denied` (RFC 6749 §4.1.2.1). That is a choice, not a failure: next-auth would
// log it twice as an error and show "Could not sign you in". This sends them to the sign-in
// page through next-auth's own sign-in route (which keeps the page they first asked for) with
// a code the page words as "Sign-in cancelled".

export const CANCELLED_SIGN_IN = "Cancelled";

/** The redirect for a cancelled sign-in, or null for any other request. */
export function cancelledSignInRedirect(url: URL): Response | null {
  if (!/\/api\/auth\/callback\/[^/]+$/.test(url.pathname) || url.searchParams.get("error") !== "access_denied") return null;
  log.info({ code: "sign_in_cancelled" }, "sign-in cancelled at the identity provider");
  return new Response(null, { status: 302, headers: { location: `/api/auth/signin?error=${CANCELLED_SIGN_IN}`, "cache-control": "no-store" } });
}
