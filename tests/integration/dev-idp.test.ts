import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevIdp, type DevIdp } from "@/lib/dev/idp/server";
import { DEMO_PASSWORD, DEMO_USERS, devIdpSubject, loadUsersFile } from "@/lib/dev/idp/users";
import { freePort } from "../helpers/net";

// The development IdP, driven over HTTP the way a browser drives it (manual redirects and a
// small cookie jar), with openid-client v6 as the relying party: the real authorization code
// flow with PKCE and state, as next-auth runs it against this IdP in demo mode.

const CLIENT_ID = "custody-test";
const CLIENT_SECRET = "custody-test-secret";
const RP_ORIGIN = "http://localhost:3999";
const REDIRECT_URI = `${RP_ORIGIN}/api/auth/callback/oidc`;
const POST_LOGOUT_REDIRECT_URI = `${RP_ORIGIN}/`;

// --- a minimal browser: cookies by name and path, redirects followed by hand -----------------

type Cookie = { name: string; value: string; path: string };

class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  store(response: Response, url: URL): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let cookiePath = url.pathname.slice(0, url.pathname.lastIndexOf("/")) || "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key = "", attrValue = ""] = attribute.trim().split("=");
        if (key.toLowerCase() === "path") cookiePath = attrValue;
        if (key.toLowerCase() === "expires" && Date.parse(attrValue) <= Date.now()) expired = true;
        if (key.toLowerCase() === "max-age" && Number(attrValue) <= 0) expired = true;
      }
      const id = `${cookiePath}\u0000${name}`;
      if (expired || value === "") this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path: cookiePath });
    }
  }

  header(url: URL): string {
    const matches = (p: string) => url.pathname === p || url.pathname.startsWith(p.endsWith("/") ? p : `${p}/`);
    return [...this.cookies.values()]
      .filter((c) => matches(c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }

  names(): string[] {
    return [...this.cookies.values()].map((c) => c.name);
  }
}

/** Where a navigation ended: a page at the IdP, or a redirect out of it (to the RP). */
type Landing =
  | { kind: "page"; status: number; url: URL; html: string }
  | { kind: "left"; location: URL };

class Browser {
  readonly jar = new CookieJar();

  constructor(private readonly origin: string) {}

  async navigate(start: URL | string, form?: Record<string, string>): Promise<Landing> {
    let url = new URL(start);
    let method = form ? "POST" : "GET";
    let body: string | undefined = form ? new URLSearchParams(form).toString() : undefined;
    for (let hops = 0; hops < 10; hops++) {
      const headers: Record<string, string> = {};
      const cookie = this.jar.header(url);
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
      const response = await fetch(url, { method, headers, body, redirect: "manual" });
      this.jar.store(response, url);
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== this.origin) return { kind: "left", location: next };
        if (response.status !== 307 && response.status !== 308) {
          method = "GET";
          body = undefined;
        }
        url = next;
        continue;
      }
      return { kind: "page", status: response.status, url, html: await response.text() };
    }
    throw new Error("too many redirects");
  }
}

function expectPage(landing: Landing): Extract<Landing, { kind: "page" }> {
  if (landing.kind !== "page") throw new Error(`expected an IdP page, was redirected to ${landing.location.href}`);
  return landing;
}

function expectLeft(landing: Landing): URL {
  if (landing.kind !== "left") throw new Error(`expected a redirect to the RP, got HTTP ${landing.status} at ${landing.url.href}`);
  return landing.location;
}

function decodeHtml(value: string): string {
  return value.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The sign-in form: where it posts and which email it shows. */
function loginForm(page: Extract<Landing, { kind: "page" }>) {
  const action = /<form method="post" action="([^"]+)">/.exec(page.html)?.[1];
  const email = /<input id="email"[^>]*\svalue="([^"]*)"/.exec(page.html)?.[1];
  if (!action) throw new Error(`no sign-in form on the page at ${page.url.href}`);
  return { action: new URL(decodeHtml(action), page.url), email: decodeHtml(email ?? "") };
}

function isLoginPage(page: Extract<Landing, { kind: "page" }>): boolean {
  return (
    page.html.includes('<label for="email">Email</label>') &&
    page.html.includes('<label for="password">Password</label>') &&
    page.html.includes('<button type="submit">Sign in</button>')
  );
}

// ---------------------------------------------------------------------------------------------

let idp: DevIdp;
let issuer: string;
let basicRp: oidc.Configuration;
let postRp: oidc.Configuration;

beforeAll(async () => {
  const port = await freePort();
  idp = await startDevIdp({
    port,
    issuer: `http://localhost:${port}`,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [REDIRECT_URI],
        postLogoutRedirectUris: [POST_LOGOUT_REDIRECT_URI],
      },
    ],
    users: [...DEMO_USERS],
  });
  issuer = idp.issuer;
  const discover = (auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(issuer), CLIENT_ID, CLIENT_SECRET, auth, { execute: [oidc.allowInsecureRequests] });
  basicRp = await discover(oidc.ClientSecretBasic(CLIENT_SECRET));
  postRp = await discover(oidc.ClientSecretPost(CLIENT_SECRET));
});

afterAll(async () => {
  await idp?.close();
});

/** Starts an authorization request like next-auth does (PKCE + state) and opens it. */
async function authorize(browser: Browser, config: oidc.Configuration, { pkce = true } = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const params: Record<string, string> = { redirect_uri: REDIRECT_URI, scope: "openid email profile", state };
  if (pkce) {
    params.code_challenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
    params.code_challenge_method = "S256";
  }
  const landing = await browser.navigate(oidc.buildAuthorizationUrl(config, params));
  return { codeVerifier, state, landing };
}

async function signIn(browser: Browser, page: Landing, email: string, password: string): Promise<Landing> {
  const { action } = loginForm(expectPage(page));
  return browser.navigate(action, { email, password });
}

/** The whole flow for one person; returns the RP's token response. */
async function signInAs(browser: Browser, config: oidc.Configuration, email: string, password = DEMO_PASSWORD) {
  const { codeVerifier, state, landing } = await authorize(browser, config);
  expect(isLoginPage(expectPage(landing))).toBe(true);
  const callback = expectLeft(await signIn(browser, landing, email, password));
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
}

describe("development identity provider", () => {
  it("publishes discovery metadata for its issuer", () => {
    const metadata = basicRp.serverMetadata();
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.authorization_endpoint).toBe(`${issuer}/auth`);
    expect(metadata.token_endpoint).toBe(`${issuer}/token`);
    expect(metadata.userinfo_endpoint).toBe(`${issuer}/me`);
    expect(metadata.end_session_endpoint).toBe(`${issuer}/session/end`);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["client_secret_basic", "client_secret_post"]),
    );
  });

  it("shows a labelled sign-in form marked as a development IdP", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { landing } = await authorize(browser, basicRp);
    const page = expectPage(landing);
    expect(page.status).toBe(200);
    expect(page.url.pathname).toMatch(/^\/interaction\/[\w-]+$/);
    expect(isLoginPage(page)).toBe(true);
    expect(page.html).toContain('id="email"');
    expect(page.html).toContain('id="password" name="password" type="password"');
    expect(page.html).toContain("Custody development identity provider — not for production");
    expect(page.html).toContain("<style>");
  });

  it("refuses a wrong password with a message, keeps the email and issues no code; the form still works", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { codeVerifier, state, landing } = await authorize(browser, basicRp);

    const refused = expectPage(await signIn(browser, landing, "admin@acme.example", "not-the-password"));
    expect(refused.status).toBe(401);
    expect(refused.html).toContain("Wrong email or password.");
    expect(isLoginPage(refused)).toBe(true);
    expect(loginForm(refused).email).toBe("admin@acme.example");
    expect(refused.html).not.toContain("not-the-password");

    // Same form, right password: now a code comes back to the RP.
    const callback = expectLeft(await signIn(browser, refused, "admin@acme.example", DEMO_PASSWORD));
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("code")).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(basicRp, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    expect(tokens.claims()?.email).toBe("admin@acme.example");
  });

  it("refuses an unknown email exactly like a wrong password", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { landing } = await authorize(browser, basicRp);
    const wrongPassword = expectPage(await signIn(browser, landing, "auditor@acme.example", "nope"));
    const unknown = expectPage(await signIn(browser, wrongPassword, "nobody@acme.example", DEMO_PASSWORD));
    expect(unknown.status).toBe(wrongPassword.status);
    expect(unknown.html).toContain("Wrong email or password.");
    expect(loginForm(unknown).email).toBe("nobody@acme.example");
    // The two pages differ only in the email they echo back.
    expect(unknown.html.replace("nobody@acme.example", "X")).toBe(wrongPassword.html.replace("auditor@acme.example", "X"));
  });

  it("signs in with the right password: the ID token carries email, email_verified and name", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { codeVerifier, state, landing } = await authorize(browser, basicRp);
    const callback = expectLeft(await signIn(browser, landing, "vendor@custody.example", DEMO_PASSWORD));

    expect(callback.searchParams.get("state")).toBe(state);
    expect(callback.searchParams.get("iss")).toBe(issuer);
    expect(callback.searchParams.get("code")).toBeTruthy();

    const tokens = await oidc.authorizationCodeGrant(basicRp, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: issuer,
      aud: CLIENT_ID,
      sub: devIdpSubject("vendor@custody.example"),
      email: "vendor@custody.example",
      email_verified: true,
      name: "Vera Vendor",
    });

    const userinfo = await oidc.fetchUserInfo(basicRp, tokens.access_token, claims!.sub);
    expect(userinfo).toMatchObject({ email: "vendor@custody.example", email_verified: true, name: "Vera Vendor" });

    // A code is good once.
    await expect(
      oidc.authorizationCodeGrant(basicRp, callback, { pkceCodeVerifier: codeVerifier, expectedState: state }),
    ).rejects.toThrow();
  });

  it("matches emails case-insensitively and works with client_secret_post", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const tokens = await signInAs(browser, postRp, "  Outsider@Example.COM ");
    expect(tokens.claims()).toMatchObject({
      sub: devIdpSubject("outsider@example.com"),
      email: "outsider@example.com",
      name: "Oscar Outsider",
    });
  });

  it("refuses an authorization request without PKCE", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { state, landing } = await authorize(browser, basicRp, { pkce: false });
    const callback = expectLeft(landing);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toMatch(/PKCE/);
    expect(callback.searchParams.get("state")).toBe(state);
    expect(callback.searchParams.get("code")).toBeNull();
  });

  it("refuses a code exchange with the wrong PKCE verifier", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const { state, landing } = await authorize(browser, basicRp);
    const callback = expectLeft(await signIn(browser, landing, "admin@acme.example", DEMO_PASSWORD));
    await expect(
      oidc.authorizationCodeGrant(basicRp, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("asks for the password again on a second authorization request, so the user can be switched", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const first = await signInAs(browser, basicRp, "admin@acme.example");
    expect(first.claims()?.email).toBe("admin@acme.example");
    expect(browser.jar.names()).toContain("_session");

    // Same browser, IdP session cookie and all: the form again, not a silent code.
    const second = await authorize(browser, basicRp);
    const page = expectPage(second.landing);
    expect(isLoginPage(page)).toBe(true);
    expect(loginForm(page).email).toBe("");

    // Someone else signs in: straight back to the RP, no sign-out confirmation in between.
    const callback = expectLeft(await signIn(browser, second.landing, "auditor@acme.example", DEMO_PASSWORD));
    const tokens = await oidc.authorizationCodeGrant(basicRp, callback, {
      pkceCodeVerifier: second.codeVerifier,
      expectedState: second.state,
    });
    expect(tokens.claims()).toMatchObject({ email: "auditor@acme.example", name: "Otto Auditor" });

    // And the same person again works too.
    const third = await signInAs(browser, basicRp, "auditor@acme.example");
    expect(third.claims()?.sub).toBe(devIdpSubject("auditor@acme.example"));
  });

  it("answers prompt=none with login_required instead of signing in silently", async () => {
    const browser = new Browser(new URL(issuer).origin);
    await signInAs(browser, basicRp, "admin@acme.example");
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(basicRp, {
      redirect_uri: REDIRECT_URI,
      scope: "openid email profile",
      state,
      prompt: "none",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    const callback = expectLeft(await browser.navigate(url));
    expect(callback.searchParams.get("error")).toBe("login_required");
    expect(callback.searchParams.get("code")).toBeNull();
  });

  it("supports RP-initiated logout back to a registered URI", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const tokens = await signInAs(browser, basicRp, "admin@acme.example");
    const url = oidc.buildEndSessionUrl(basicRp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
      state: "bye",
    });
    const confirm = expectPage(await browser.navigate(url));
    expect(confirm.status).toBe(200);
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)">/.exec(confirm.html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1];
    expect(action && xsrf).toBeTruthy();
    const back = expectLeft(await browser.navigate(new URL(decodeHtml(action!), confirm.url), { xsrf: xsrf!, logout: "yes" }));
    expect(back.origin + back.pathname).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe("bye");
    expect(browser.jar.names()).not.toContain("_session");
  });

  it("shows an expired-request page for an unknown interaction", async () => {
    const browser = new Browser(new URL(issuer).origin);
    const page = expectPage(await browser.navigate(`${issuer}/interaction/does-not-exist`));
    expect(page.status).toBe(400);
    expect(page.html).toContain("expired");
  });
});

describe("development identity provider under an issuer with a path", () => {
  let mounted: DevIdp;
  let rp: oidc.Configuration;
  const extraUser = { email: "eve@acme.example", name: "Eve Extra", password: "eve-password-1" };

  beforeAll(async () => {
    const port = await freePort();
    mounted = await startDevIdp({
      port,
      issuer: `http://localhost:${port}/oidc/`,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      users: [extraUser],
    });
    rp = await oidc.discovery(new URL(mounted.issuer), CLIENT_ID, CLIENT_SECRET, oidc.ClientSecretBasic(CLIENT_SECRET), {
      execute: [oidc.allowInsecureRequests],
    });
  });

  afterAll(async () => {
    await mounted?.close();
  });

  it("serves every endpoint and the sign-in form under the path", async () => {
    expect(mounted.issuer).toMatch(/\/oidc$/);
    expect(rp.serverMetadata().authorization_endpoint).toBe(`${mounted.issuer}/auth`);
    const browser = new Browser(new URL(mounted.issuer).origin);
    const { codeVerifier, state, landing } = await authorize(browser, rp);
    const page = expectPage(landing);
    expect(page.url.pathname).toMatch(/^\/oidc\/interaction\//);
    const callback = expectLeft(await signIn(browser, page, extraUser.email, extraUser.password));
    const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    expect(tokens.claims()).toMatchObject({ iss: mounted.issuer, email: "eve@acme.example", name: "Eve Extra" });
  });
});

describe("loadUsersFile", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "dev-idp-users-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("reads a JSON array of users", () => {
    const file = write("ok.json", JSON.stringify([{ email: "eve@acme.example", name: "Eve", password: "s3cret-value" }]));
    expect(loadUsersFile(file)).toEqual([{ email: "eve@acme.example", name: "Eve", password: "s3cret-value" }]);
  });

  it("names the problems without echoing passwords", () => {
    const bad = write("bad.json", JSON.stringify([{ email: "not-an-email", password: "s3cret-value" }]));
    expect(() => loadUsersFile(bad)).toThrow(/bad\.json is invalid:[\s\S]*\[0\]\.email must be an email address[\s\S]*\[0\]\.name/);
    expect(() => loadUsersFile(bad)).not.toThrow(/s3cret-value/);

    const broken = write("broken.json", '[{"email": "a@b.example", "password": "s3cret-value",]');
    expect(() => loadUsersFile(broken)).toThrow(/broken\.json is not valid JSON/);
    expect(() => loadUsersFile(broken)).not.toThrow(/s3cret-value/);

    expect(() => loadUsersFile(write("object.json", "{}"))).toThrow(/must be a JSON array/);
    expect(() => loadUsersFile(path.join(dir, "missing.json"))).toThrow(/could not be read: it does not exist/);
  });
});
