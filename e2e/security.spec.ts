import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { APIResponse, Page } from "@playwright/test";
import { API_SECURITY_HEADERS, PAGE_SECURITY_HEADERS } from "../lib/http/security-headers";
import { DEMO, type User, auditRows, expect, test } from "./fixtures";

// Security headers on every response, derived from the app/ folder so a new page or route
// handler is covered without touching this file; the CSP's nonce on every script Next emits
// (and no violation in the browser); and cross-site requests refused with 403.

test.describe.configure({ timeout: 240_000 });

const APP_DIR = path.join(__dirname, "../app");
const UNKNOWN_ID = "00000000-0000-4000-8000-00000000abcd";

/** Every file named `name` under app/, as its URL pattern: route groups dropped, [segments] kept. */
function routesNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === name) {
        const segments = path.relative(APP_DIR, dir).split(path.sep).filter((s) => s !== "" && !/^\(.*\)$/.test(s));
        found.push(`/${segments.join("/")}`);
      }
    }
  };
  walk(APP_DIR);
  return found.sort();
}

/** A value for each dynamic segment; a new segment name fails the suite until it gets one here. */
function concrete(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\[(\.\.\.)?([^\]]+)\]/g, (_match, _rest: string | undefined, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`e2e/security.spec.ts has no value for the route segment [${name}] in ${pattern}`);
    return value;
  });
}

function expectPageHeaders(response: APIResponse, what: string): string {
  const headers = response.headers();
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) {
    expect(headers[name.toLowerCase()], `${what}: ${name}`).toBe(value);
  }
  const csp = headers["content-security-policy"] ?? "";
  expect(csp, `${what}: Content-Security-Policy`).toContain("frame-ancestors 'none'");
  const scriptSrc = /(?:^|;\s*)script-src ([^;]*)/.exec(csp)?.[1] ?? "";
  expect(scriptSrc, `${what}: script-src`).toMatch(/'nonce-[A-Za-z0-9+/=]{16,}'/);
  expect(scriptSrc, `${what}: script-src`).not.toContain("'unsafe-inline'");
  // Plain http without a trusted proxy: no HSTS (its rules are unit-tested, lib/http/security-headers.test.ts).
  expect(headers["strict-transport-security"], `${what}: Strict-Transport-Security`).toBeUndefined();
  return /'nonce-([^']+)'/.exec(scriptSrc)![1]!;
}

function expectApiHeaders(response: APIResponse, what: string): void {
  for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
    expect(response.headers()[name.toLowerCase()], `${what}: ${name}`).toBe(value);
  }
}

test("every page carries the security headers and a per-request script nonce, for every kind of visitor", async ({ pageAs, newPage }) => {
  const pages = routesNamed("page.tsx");
  expect(pages.length).toBeGreaterThanOrEqual(15);
  const admin = await pageAs(DEMO.acmeAdmin);
  await admin.goto("/t/acme/keys");
  await expect(admin.getByRole("heading", { name: "Your KMS keys" })).toBeVisible();
  // A registered key's page if Acme has one by now (other specs register some), else the 404 a made-up id gets.
  const keyHrefs = await admin.locator('a[href^="/t/acme/keys/"]').evaluateAll((links) => links.map((a) => a.getAttribute("href") ?? ""));
  const values = { slug: "acme", keyId: keyHrefs[0]?.split("/").at(-1) ?? UNKNOWN_ID, sinkId: UNKNOWN_ID, tenantId: UNKNOWN_ID };

  const visitors: Array<[string, User | null]> = [
    ["anonymous", null],
    ["Acme's admin", DEMO.acmeAdmin],
    ["the vendor admin", DEMO.vendor],
  ];
  let checked = 0;
  for (const [who, user] of visitors) {
    const page = user ? await pageAs(user) : await newPage();
    const nonces = new Set<string>();
    for (const pattern of pages) {
      const url = concrete(pattern, values);
      // The response itself (redirects included), not where it leads.
      const response = await page.request.get(url, { maxRedirects: 0 });
      const nonce = expectPageHeaders(response, `${who} GET ${url} (${response.status()})`);
      expect(nonces.has(nonce), "a nonce is never reused").toBe(false);
      nonces.add(nonce);
      if (response.headers()["content-type"]?.startsWith("text/html")) {
        const html = await response.text();
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        expect(scripts.length, `${who} ${url} has scripts`).toBeGreaterThan(0);
        for (const tag of scripts) expect(tag, `${who} ${url}: every script carries the nonce`).toContain(`nonce="${nonce}"`);
      }
      checked++;
    }
  }
  // A 404 and a static asset.
  const anonymous = await newPage();
  expectPageHeaders(await anonymous.request.get("/no/such/page"), "a 404");
  const html = await (await anonymous.request.get("/signin")).text();
  const asset = /<script[^>]+src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset).toBeTruthy();
  const assetResponse = await anonymous.request.get(asset!);
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) expect(assetResponse.headers()[name.toLowerCase()], `${asset} ${name}`).toBe(value);
  console.log(`security headers: ${checked} page responses (${pages.length} pages × ${visitors.length} visitors)`);
});

test("every route handler and API response carries them too", async ({ pageAs, newPage }) => {
  const routes = routesNamed("route.ts");
  const values = { slug: "acme", id: "1", keyId: UNKNOWN_ID, path: "wrap", nextauth: "session" };
  const admin = await pageAs(DEMO.acmeAdmin);
  const anonymous = await newPage();
  for (const pattern of routes) {
    const url = concrete(pattern, values);
    const callers: Array<[string, Page]> = [["anonymous", anonymous]];
    // The live stream never ends by itself; signed out it answers at once (401).
    if (!url.endsWith("/audit/stream")) callers.push(["Acme's admin", admin]);
    for (const [who, page] of callers) {
      const response = await page.request.get(url, { maxRedirects: 0 });
      const what = `${who} GET ${url} (${response.status()})`;
      if (url.startsWith("/api/v1/")) expectApiHeaders(response, what);
      else expectPageHeaders(response, what);
    }
  }
  // The key service's own endpoints, its errors, and the health endpoints.
  for (const [url, init] of [
    ["/api/v1/health", {}],
    ["/api/v1/openapi.json", {}],
    ["/api/v1/wrap", { method: "POST", data: {} }],
    // Health, answered by the node:http server itself (lib/server/health.ts).
    ["/api/health/live", {}],
    ["/api/health/ready", {}],
  ] as const) {
    const response = await anonymous.request.fetch(url, init);
    expectApiHeaders(response, `${url} (${response.status()})`);
  }
});

test("pages run with the CSP and report no violation", async ({ pageAs }) => {
  const check = async (user: User, urls: string[]) => {
    const page = await pageAs(user);
    // Reported to this process as they happen (the event may come after the page has loaded).
    const violations: string[] = [];
    await page.exposeFunction("__cspViolation", (report: string) => void violations.push(report));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        (window as unknown as { __cspViolation(r: string): void }).__cspViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    for (const url of urls) {
      await page.goto(url);
      await page.waitForLoadState("load");
    }
    // One more navigation: a violation a page reported late has arrived by the time the next has loaded.
    await page.goto(urls[0]!);
    await page.waitForLoadState("load");
    expect(violations).toEqual([]);
  };
  await check(DEMO.acmeAdmin, ["/t/acme", "/t/acme/keys", "/t/acme/members", "/t/acme/audit", "/t/acme/usage", "/t/acme/sinks", "/t/acme/audit/integrity"]);
  await check(DEMO.vendor, ["/vendor", "/vendor/credentials", "/vendor/audit", "/vendor/usage", "/tenants"]);
});

test("a server action or POST from another origin is refused with 403, whatever X-Forwarded-Host says", async ({ pageAs }) => {
  const admin = await pageAs(DEMO.acmeAdmin);
  const action = { "next-action": "7f".repeat(21), "content-type": "text/plain;charset=UTF-8" };
  const foreign = await admin.request.post("/t/acme/members", { headers: { ...action, origin: "https://evil.example" }, data: "[]" });
  expect(foreign.status()).toBe(403);
  expect(await foreign.json()).toEqual({ error: { code: "forbidden", message: "Cross-site request refused." } });
  const nullOrigin = await admin.request.post("/t/acme/members", { headers: { ...action, origin: "null" }, data: "[]" });
  expect(nullOrigin.status()).toBe(403);
  // A no-JavaScript form post of an action is a server action too.
  const form = await admin.request.post("/t/acme/members", { headers: { origin: "https://evil.example" }, form: { email: "x@evil.example" } });
  expect(form.status()).toBe(403);

  // A client cannot make its foreign Origin look like Custody's own host (no TRUST_PROXY here).
  const spoofed = { origin: "https://evil.example", "x-forwarded-host": "evil.example" };
  expect((await admin.request.post("/t/acme/members", { headers: { ...action, ...spoofed }, data: "[]" })).status()).toBe(403);
  expect((await admin.request.post("/t/acme/audit/integrity/verify", { headers: spoofed })).status()).toBe(403);
});

/** A GET from another loopback address (127.0.0.2): the server sees a different client. */
function getFrom(localAddress: string, path: string): Promise<{ status: number; retryAfter: string | undefined; location: string | undefined; body: string }> {
  const base = new URL(test.info().project.use.baseURL ?? `http://localhost:${process.env.E2E_PORT ?? 3100}`);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: Number(base.port), path, localAddress, headers: { host: base.host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], location: res.headers.location, body }),
      );
    });
    req.on("error", reject);
  });
}

test("failed sign-ins from one address are limited: 429 with Retry-After, one audit event, other addresses unaffected", async ({ pageAs, newPage }) => {
  const attacker = "127.0.0.2";
  // Forged callbacks (no state cookie): each one signs nobody in. The e2e server allows 20.
  const forged = "/api/auth/callback/oidc?code=forged&state=forged";
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push(await getFrom(attacker, forged));
  for (const answer of answers) {
    expect(answer.status).toBe(302);
    expect(answer.location).toMatch(/\/(api\/auth\/error|signin)\?error=/);
  }
  // Past the limit: every sign-in step from that address, before next-auth runs.
  for (const path of [forged, "/api/auth/signin/oidc"]) {
    const limited = await getFrom(attacker, path);
    expect(limited.status, path).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited.body).toMatch(/^Too many sign-in attempts from your address\. Try again in \d+ seconds?\./);
  }
  // The browser's address signs in as usual.
  const visitor = await newPage();
  await visitor.goto("/signin");
  await expect(visitor.getByRole("button", { name: /^Continue with / })).toBeVisible();
  // One vendor-chain event for the crossing, with the address: not one per request.
  const vendor = await pageAs(DEMO.vendor);
  await vendor.goto("/vendor/audit?action=auth.sign_in_rate_limited");
  await expect(auditRows(vendor, attacker)).toHaveCount(1);
});
