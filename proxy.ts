import { type NextRequest, NextResponse } from "next/server";
import { CROSS_SITE_MESSAGE, crossSite, mayBeServerAction } from "@/lib/http/same-origin";
import { pageContentSecurityPolicy } from "@/lib/http/security-headers";

// Runs before every console request (not Next's static assets, not the key service):
// 1. A server action posted from another origin is refused with 403 here; Next's own check
//    would refuse it too, but as a 500.
// 2. A Content-Security-Policy with a fresh nonce: Next reads the nonce from the request's CSP
//    header and puts it on every script it emits; the browser gets the same policy.
// 3. An optimistic check only: without a session cookie, protected pages send the visitor to
//    sign-in and bring them back afterwards. The real check (a live database session and the
//    person's memberships) happens in each layout and again in the data layer.
const SESSION_COOKIES = ["next-auth.session-token", "__Secure-next-auth.session-token"];
const PROTECTED = /^\/(t|vendor|tenants)(\/|$)/;
const DOWNLOADS = /^\/t\/[^/]+\/audit\/export\/?$/;
const LIVE_STREAM = /^\/t\/[^/]+\/audit\/stream\/?$/;

function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

export function proxy(request: NextRequest) {
  const csp = pageContentSecurityPolicy(newNonce(), { development: process.env.NODE_ENV === "development" });
  const respond = (response: NextResponse) => {
    response.headers.set("Content-Security-Policy", csp);
    return response;
  };
  const { pathname } = request.nextUrl;

  if (mayBeServerAction(request.method, pathname, request.headers) && crossSite(request.headers)) {
    return respond(NextResponse.json({ error: { code: "forbidden", message: CROSS_SITE_MESSAGE } }, { status: 403 }));
  }

  if (PROTECTED.test(pathname) && !SESSION_COOKIES.some((name) => request.cookies.has(name))) {
    // Downloads are fetched by script, which would follow a redirect to the sign-in page's HTML.
    if (DOWNLOADS.test(pathname)) {
      return respond(NextResponse.json({ error: { code: "unauthenticated", message: "Sign in to export the audit trail." } }, { status: 401 }));
    }
    // So is the live view's event stream (EventSource), which would take the sign-in page for a broken stream.
    if (LIVE_STREAM.test(pathname)) {
      return respond(NextResponse.json({ error: { code: "unauthenticated", message: "Sign in to follow the audit trail." } }, { status: 401 }));
    }
    const signIn = new URL("/signin", request.url);
    signIn.searchParams.set("callbackUrl", `${pathname}${request.nextUrl.search}`);
    return respond(NextResponse.redirect(signIn));
  }

  const headers = new Headers(request.headers);
  headers.set("Content-Security-Policy", csp);
  return respond(NextResponse.next({ request: { headers } }));
}

// Everything but Next's static assets (no scripts of ours run from them) and the key service
// (served in front of Next; here only for completeness).
export const config = { matcher: ["/((?!_next/static|_next/image|favicon\\.ico|api/v1/).*)"] };
