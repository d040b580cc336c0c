import { type NextRequest, NextResponse } from "next/server";

// An optimistic check only: without a session cookie, protected pages send the visitor to
// sign-in and bring them back afterwards. The real check (a live database session and the
// person's memberships) happens in each layout and again in the data layer.
const SESSION_COOKIES = ["next-auth.session-token", "__Secure-next-auth.session-token"];
const DOWNLOADS = /^\/t\/[^/]+\/audit\/export\/?$/;
const LIVE_STREAM = /^\/t\/[^/]+\/audit\/stream\/?$/;

export function proxy(request: NextRequest) {
  if (SESSION_COOKIES.some((name) => request.cookies.has(name))) return NextResponse.next();
  // Downloads are fetched by script, which would follow a redirect to the sign-in page's HTML.
  if (DOWNLOADS.test(request.nextUrl.pathname)) {
    return NextResponse.json({ error: { code: "unauthenticated", message: "Sign in to export the audit trail." } }, { status: 401 });
  }
  // So is the live view's event stream (EventSource), which would take the sign-in page for a broken stream.
  if (LIVE_STREAM.test(request.nextUrl.pathname)) {
    return NextResponse.json({ error: { code: "unauthenticated", message: "Sign in to follow the audit trail." } }, { status: 401 });
  }
  const signIn = new URL("/signin", request.url);
  signIn.searchParams.set("callbackUrl", `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.redirect(signIn);
}

export const config = { matcher: ["/t/:path*", "/vendor/:path*", "/tenants"] };
