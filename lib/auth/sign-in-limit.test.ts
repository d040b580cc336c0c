import { describe, expect, it } from "vitest";
import { CLIENT_IP_HEADER } from "@/lib/http/request-meta";
import { isFailedSignIn, limitSignIn, signInStep } from "./sign-in-limit";
import { SignInLimiter, type SignInLimitCrossed } from "./sign-in-limiter";

// The sign-in limits around next-auth's route handler. next-auth itself is driven for real in
// e2e/security.spec.ts; here a handler answers as next-auth does (a redirect into the console,
// or to the sign-in page with an error) so each rule can be pushed past its limit.

const BASE = "http://custody.test";

function request(path: string, ip: string, method = "GET"): Request {
  return new Request(`${BASE}${path}`, { method, headers: { [CLIENT_IP_HEADER]: ip } });
}

function setup(limits = { attemptsPerIp: 3, failuresPerIp: 2, windowSeconds: 60 }) {
  const crossed: Array<SignInLimitCrossed & { ip: string | null }> = [];
  const limiter = new SignInLimiter(limits, async (c, meta) => void crossed.push({ ...c, ip: meta.sourceIp }));
  let calls = 0;
  // Callbacks with code=bad fail as next-auth's do; others sign in.
  const handler = limitSignIn(
    async (req: Request) => {
      calls++;
      const url = new URL(req.url);
      // next-auth's redirects carry NEXTAUTH_URL's origin, not necessarily the request's.
      const location = url.pathname.startsWith("/api/auth/callback/") && url.searchParams.get("code") === "bad" ? "http://localhost:3000/api/auth/error?error=OAuthCallback" : `${BASE}/t/acme`;
      return new Response(null, { status: 302, headers: { location } });
    },
    () => limiter,
  );
  return { crossed, handler: (req: Request) => handler(req, {}), calls: () => calls };
}

async function expectLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(await response.text()).toMatch(/^Too many sign-in attempts from your address\. Try again in \d+ seconds?\.$/m);
}

describe("sign-in limits per client address", () => {
  it("answers sign-in starts past the limit 429 with Retry-After, without running next-auth, and records the crossing once", async () => {
    const { crossed, handler, calls } = setup();
    for (let i = 0; i < 3; i++) expect((await handler(request("/api/auth/signin/oidc", "203.0.113.7", "POST"))).status).toBe(302);
    for (let i = 0; i < 5; i++) await expectLimited(await handler(request("/api/auth/signin/oidc", "203.0.113.7", "POST")));
    // The callback of a flow it started earlier is refused too, until the window ends.
    await expectLimited(await handler(request("/api/auth/callback/oidc?code=good&state=s", "203.0.113.7")));
    expect(calls()).toBe(3);
    expect(crossed).toEqual([{ scope: "attempts", limit: 3, windowSeconds: 60, ip: "203.0.113.7" }]);
    // Another address is not affected.
    expect((await handler(request("/api/auth/signin/oidc", "203.0.113.8", "POST"))).status).toBe(302);
  });

  it("counts callbacks that sign nobody in, and then refuses every sign-in step from that address", async () => {
    const { crossed, handler, calls } = setup({ attemptsPerIp: 100, failuresPerIp: 2, windowSeconds: 60 });
    // Successful callbacks do not count.
    for (let i = 0; i < 5; i++) expect((await handler(request("/api/auth/callback/oidc?code=good&state=s", "198.51.100.1"))).status).toBe(302);
    // Two failures are allowed; the second is recorded as the crossing, and the third attempt is refused.
    for (let i = 0; i < 2; i++) expect((await handler(request("/api/auth/callback/oidc?code=bad&state=s", "198.51.100.1"))).status).toBe(302);
    expect(isFailedSignIn(new Response(null, { status: 302, headers: { location: "/no-access" } }), BASE)).toBe(true);
    expect(isFailedSignIn(new Response(null, { status: 302, headers: { location: "/signin?error=EmailNotVerified" } }), BASE)).toBe(true);
    expect(isFailedSignIn(new Response(null, { status: 302, headers: { location: "/signin?callbackUrl=%2Ft%2Facme" } }), BASE)).toBe(false);
    expect(crossed).toEqual([{ scope: "failures", limit: 2, windowSeconds: 60, ip: "198.51.100.1" }]);
    const before = calls();
    await expectLimited(await handler(request("/api/auth/callback/oidc?code=good&state=s", "198.51.100.1")));
    await expectLimited(await handler(request("/api/auth/signin/oidc", "198.51.100.1", "POST")));
    await expectLimited(await handler(request("/api/auth/signin/oidc", "198.51.100.1")));
    expect(calls()).toBe(before);
    expect(crossed).toHaveLength(1);
  });

  it("leaves next-auth's other endpoints alone (session, CSRF token, sign-out)", async () => {
    const { handler, calls } = setup({ attemptsPerIp: 1, failuresPerIp: 1, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) await handler(request("/api/auth/callback/oidc?code=bad", "192.0.2.1"));
    for (const path of ["/api/auth/session", "/api/auth/csrf", "/api/auth/providers"]) expect((await handler(request(path, "192.0.2.1"))).status).toBe(302);
    expect((await handler(request("/api/auth/signout", "192.0.2.1", "POST"))).status).toBe(302);
    // The first callback ran (and reached the limit); the other two were refused; the rest all ran.
    expect(calls()).toBe(1 + 4);
  });

  it("knows next-auth's sign-in steps by path and method", () => {
    expect(signInStep(request("/api/auth/signin/oidc", "x", "POST"))).toBe("start");
    expect(signInStep(request("/api/auth/signin/oidc", "x"))).toBe("other");
    expect(signInStep(request("/api/auth/callback/oidc?code=1", "x"))).toBe("callback");
    expect(signInStep(request("/api/auth/signin", "x"))).toBeNull();
    expect(signInStep(request("/api/auth/session", "x"))).toBeNull();
  });
});
