import { generateKeyPairSync, randomBytes, randomUUID, scrypt, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
// @ts-expect-error -- oidc-provider ships no type declarations (@types/oidc-provider is not installed); the few shapes used here are declared below.
import { Provider as UntypedProvider, interactionPolicy as untypedInteractionPolicy } from "oidc-provider";
import { errorFields, log } from "@/lib/log";
import { devIdpSubject, normalizeDevIdpEmail, type DevIdpUser } from "./users";

// The development OpenID Connect identity provider: a real authorization server
// (oidc-provider) with a password form in front of a small user directory. Demo mode and the
// tests sign in through it, so Custody's real OIDC flow (code + PKCE + state) runs end to end
// on one machine. It keeps everything in memory and makes new keys at every start.
//
// Deliberate choices:
// - The password is asked on every authorization request: there is no silent single sign-on,
//   so signing out of Custody and signing in as someone else works in one browser.
// - The configured clients are first-party: consent is granted without a consent screen.
// - PKCE (S256) is required; the ID token carries sub, email, email_verified and name.

export type DevIdpClient = {
  clientId: string;
  clientSecret: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris?: readonly string[];
};

export type DevIdpOptions = {
  port: number;
  issuer: string;
  clients: readonly DevIdpClient[];
  users: readonly DevIdpUser[];
  /** Interface to listen on; all interfaces when omitted. */
  host?: string;
};

export type DevIdp = { issuer: string; close: () => Promise<void> };

export const DEV_IDP_BANNER = "Custody development identity provider — not for production";
export const WRONG_CREDENTIALS_MESSAGE = "Wrong email or password.";

// ---------------------------------------------------------------------------------------
// The parts of oidc-provider this file uses (it has no type declarations of its own).

type OidcContext = {
  oidc: {
    result?: { login?: unknown; consent?: { grantId?: string } };
    session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
    client?: { clientId: string };
    requestParamOIDCScopes: Set<string>;
  };
  host: string;
  type: string;
  status: number;
  body: unknown;
};

type Grant = {
  accountId?: string;
  clientId?: string;
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
};

type Interaction = {
  uid: string;
  exp: number;
  prompt: { name: string };
  params: Record<string, unknown>;
  session?: { accountId: string; uid?: string };
  persist(): Promise<unknown>;
};

type Account = { accountId: string; claims: () => Promise<Record<string, unknown>> };

interface OidcProvider {
  proxy: boolean;
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  on(event: "server_error", listener: (ctx: unknown, error: unknown) => void): unknown;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
  Session: { findByUid(uid: string): Promise<{ destroy(): Promise<void> } | undefined> };
}

type Check = { readonly brand?: never };
type InteractionPolicy = Array<{ name: string }> & {
  get(name: string): { checks: { add(check: Check): void } } | undefined;
};

const Provider = UntypedProvider as new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
const interactionPolicy = untypedInteractionPolicy as {
  base(): InteractionPolicy;
  Check: {
    new (reason: string, description: string, error: string, check: (ctx: OidcContext) => boolean): Check;
    REQUEST_PROMPT: boolean;
    NO_NEED_TO_PROMPT: boolean;
  };
};

// ---------------------------------------------------------------------------------------
// The directory: scrypt hashes made at start, compared in constant time.

type DirectoryEntry = { sub: string; email: string; name: string; salt: Buffer; hash: Buffer };

const SCRYPT_KEY_LENGTH = 32;

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, SCRYPT_KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

async function buildDirectory(users: readonly DevIdpUser[]) {
  if (users.length === 0) throw new Error("The dev IdP needs at least one user");
  const byEmail = new Map<string, DirectoryEntry>();
  const bySub = new Map<string, DirectoryEntry>();
  for (const user of users) {
    const email = normalizeDevIdpEmail(user.email);
    if (!email || !user.password) throw new Error("Every dev IdP user needs an email and a password");
    if (byEmail.has(email)) throw new Error(`The dev IdP user ${email} is configured more than once`);
    const salt = randomBytes(16);
    const entry = { sub: devIdpSubject(email), email, name: user.name, salt, hash: await scryptHash(user.password, salt) };
    byEmail.set(email, entry);
    bySub.set(entry.sub, entry);
  }
  // An unknown email costs the same scrypt as a known one.
  const decoySalt = randomBytes(16);
  const decoyHash = await scryptHash(randomBytes(16).toString("hex"), decoySalt);

  return {
    bySub,
    async verify(email: string, password: string): Promise<DirectoryEntry | undefined> {
      const entry = byEmail.get(normalizeDevIdpEmail(email));
      const actual = await scryptHash(password, entry?.salt ?? decoySalt);
      const matches = timingSafeEqual(actual, entry?.hash ?? decoyHash);
      return matches && entry ? entry : undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Storage: a small in-memory adapter (oidc-provider's own one warns that it is for quick
// starts only; this one is the same idea, owned here and scoped to one IdP instance).

type Stored = { payload: Record<string, unknown>; expiresAt: number };

function memoryAdapterFactory() {
  const store = new Map<string, Stored>();
  let writes = 0;
  const now = () => Date.now();
  const live = (key: string) => {
    const stored = store.get(key);
    if (stored && stored.expiresAt <= now()) {
      store.delete(key);
      return undefined;
    }
    return stored;
  };
  const sweep = () => {
    const t = now();
    for (const [key, stored] of store) if (stored.expiresAt <= t) store.delete(key);
  };

  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const findWhere = (field: string, value: string) => {
      for (const [k, stored] of store) {
        if (k.startsWith(`${model}:`) && stored.payload[field] === value && live(k)) return stored.payload;
      }
      return undefined;
    };
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        if (++writes % 200 === 0) sweep();
        // A little longer than the artifact itself: oidc-provider checks expiry on its own.
        const expiresAt = typeof expiresIn === "number" ? now() + (expiresIn + 15) * 1000 : Number.POSITIVE_INFINITY;
        store.set(key(id), { payload, expiresAt });
      },
      async find(id: string) {
        return live(key(id))?.payload;
      },
      async findByUid(uid: string) {
        return findWhere("uid", uid);
      },
      async findByUserCode(userCode: string) {
        return findWhere("userCode", userCode);
      },
      async consume(id: string) {
        const stored = live(key(id));
        if (stored) stored.payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id: string) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const [k, stored] of store) {
          if (k.startsWith(`${model}:`) && stored.payload.grantId === grantId) store.delete(k);
        }
      },
    };
  };
}

// ---------------------------------------------------------------------------------------
// Pages: server-rendered HTML, one small inline stylesheet, no scripts.

function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLES = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px;
  background:#f1f5f9;color:#0f172a;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:380px;background:#fff;border:1px solid #e2e8f0;border-radius:12px;
  padding:28px;box-shadow:0 1px 3px rgba(15,23,42,.08)}
.banner{margin:0 0 20px;padding:8px 10px;border-radius:6px;background:#fef3c7;color:#78350f;
  font-size:13px;font-weight:600;text-align:center}
h1{margin:0 0 4px;font-size:22px;line-height:1.3}
.lead{margin:0 0 20px;color:#475569;font-size:14px}
.error{margin:0 0 16px;padding:10px 12px;border-radius:6px;background:#fee2e2;color:#991b1b;font-size:14px}
label{display:block;margin:0 0 6px;font-size:14px;font-weight:600}
input{display:block;width:100%;margin:0 0 16px;padding:10px 12px;border:1px solid #cbd5e1;border-radius:6px;
  font:inherit;color:inherit;background:#fff}
input:focus{outline:2px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button{display:block;width:100%;padding:10px 12px;border:0;border-radius:6px;background:#1e40af;color:#fff;
  font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#1e3a8a}
button:focus-visible{outline:2px solid #2563eb;outline-offset:2px}
button.secondary{margin-top:10px;background:transparent;color:#334155;border:1px solid #cbd5e1}
button.secondary:hover{background:#f8fafc}
p,code{overflow-wrap:anywhere}
code{font-size:13px}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Custody dev IdP</title>
<style>${STYLES}</style>
</head>
<body>
<main>
<p class="banner">${escapeHtml(DEV_IDP_BANNER)}</p>
${body}
</main>
</body>
</html>
`;
}

function loginPage(options: { action: string; clientId: string; email: string; error?: string }): string {
  const { action, clientId, email, error } = options;
  return page(
    "Sign in",
    `<h1>Sign in</h1>
<p class="lead">to continue to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${escapeHtml(action)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}"${email ? "" : " autofocus"}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${email ? " autofocus" : ""}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="action" value="cancel">
<button type="submit" class="secondary">Cancel</button>
</form>`,
  );
}

function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="lead">${escapeHtml(message)}</p>`);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Content-Type-Options", "nosniff");
  // No form-action: after the form, the browser is redirected on to the application.
  res.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.end(html);
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new RangeError("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

// ---------------------------------------------------------------------------------------

function normalizeIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer.replace(/\/+$/, ""));
  } catch {
    throw new Error(`The dev IdP issuer must be an absolute http(s) URL, got ${JSON.stringify(issuer)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("The dev IdP issuer must be an http(s) URL");
  if (url.search || url.hash) throw new Error("The dev IdP issuer must not have a query or fragment");
  return url;
}

/** Starts the development identity provider and resolves once it is listening. */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const issuerUrl = normalizeIssuer(options.issuer);
  const issuer = issuerUrl.href.replace(/\/+$/, "");
  const mountPath = issuerUrl.pathname.replace(/\/+$/, "");
  if (options.clients.length === 0) throw new Error("The dev IdP needs at least one client");

  const directory = await buildDirectory(options.users);
  const clientIds = new Set(options.clients.map((c) => c.clientId));

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };

  // Ask for the password on every authorization request: the login prompt is satisfied only
  // by a login that happened during this very request (the interaction result).
  const policy = interactionPolicy.base();
  policy
    .get("login")
    ?.checks.add(
      new interactionPolicy.Check(
        "reauthentication_required",
        "the development IdP asks for the password on every authorization request",
        "login_required",
        (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT),
      ),
    );

  const configuration: Record<string, unknown> = {
    adapter: memoryAdapterFactory(),
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      // client_secret_post is accepted too: oidc-provider treats the two as interchangeable.
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString("base64url")],
      long: { httpOnly: true, sameSite: "lax" },
      short: { httpOnly: true, sameSite: "lax" },
    },
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put the scope-granted claims in the ID token as well as at userinfo.
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    clientAuthMethods: ["client_secret_basic", "client_secret_post"],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: OidcContext, form: string) {
          ctx.type = "html";
          ctx.body = page(
            "Sign out",
            `<h1>Sign out</h1>
<p class="lead">Sign out of the development identity provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
          );
        },
        async postLogoutSuccessSource(ctx: OidcContext) {
          ctx.type = "html";
          ctx.body = messagePage("Signed out", "You have signed out of the development identity provider.");
        },
      },
    },
    interactions: {
      policy,
      url: (_ctx: OidcContext, interaction: { uid: string }) => `${mountPath}/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx: OidcContext, sub: string): Promise<Account | undefined> {
      const entry = directory.bySub.get(sub);
      if (!entry) return undefined;
      return {
        accountId: entry.sub,
        claims: async () => ({ sub: entry.sub, email: entry.email, email_verified: true, name: entry.name }),
      };
    },
    // First-party clients: every requested scope is granted without a consent screen.
    async loadExistingGrant(ctx: OidcContext): Promise<Grant | undefined> {
      const { client, session, result } = ctx.oidc;
      if (!client || !session.accountId || !clientIds.has(client.clientId)) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      let grant = grantId ? await provider.Grant.find(grantId) : undefined;
      if (grant && (grant.accountId !== session.accountId || grant.clientId !== client.clientId)) grant = undefined;
      grant ??= new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
      const scopes = [...ctx.oidc.requestParamOIDCScopes];
      if (scopes.length) grant.addOIDCScope(scopes.join(" "));
      await grant.save();
      return grant;
    },
    async renderError(ctx: OidcContext, out: { error?: string; error_description?: string }) {
      ctx.type = "html";
      ctx.body = page(
        "Sign-in problem",
        `<h1>Something went wrong</h1>
<p class="lead">${escapeHtml(out.error_description ?? "The request could not be completed.")}</p>
<p><code>${escapeHtml(out.error ?? "error")}</code></p>`,
      );
    },
    clientBasedCORS: () => false,
    // Explicit lifetimes (seconds); oidc-provider's defaults print a notice when used.
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 60 * 60,
      IdToken: 60 * 60,
      Interaction: 30 * 60,
      Session: 8 * 60 * 60,
      Grant: 8 * 60 * 60,
    },
  };

  // (The callbacks above run only once requests arrive, after this assignment.)
  const provider = new Provider(issuer, configuration);
  // Behind a TLS-terminating proxy an https issuer needs X-Forwarded-Proto to be trusted;
  // a plain-http issuer must not trust it.
  provider.proxy = issuerUrl.protocol === "https:";
  provider.on("server_error", (_ctx, error) => log.error(errorFields(error), "dev IdP server error"));

  const providerHandler = provider.callback();

  async function showLogin(req: IncomingMessage, res: ServerResponse, uid: string, action: string) {
    const interaction = await loadInteraction(req, res, uid);
    if (!interaction) return;
    const hint = typeof interaction.params.login_hint === "string" ? interaction.params.login_hint : "";
    sendHtml(res, 200, loginPage({ action, clientId: String(interaction.params.client_id ?? ""), email: hint }));
  }

  async function submitLogin(req: IncomingMessage, res: ServerResponse, uid: string, action: string) {
    const interaction = await loadInteraction(req, res, uid);
    if (!interaction) return;
    const form = await readForm(req);

    if (form.get("action") === "cancel") {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "The person cancelled the sign-in." },
        { mergeWithLastSubmission: false },
      );
      return;
    }

    const email = (form.get("email") ?? "").trim();
    const password = form.get("password") ?? "";
    const entry = email && password ? await directory.verify(email, password) : undefined;
    if (!entry) {
      const clientId = String(interaction.params.client_id ?? "");
      sendHtml(res, 401, loginPage({ action, clientId, email, error: WRONG_CREDENTIALS_MESSAGE }));
      return;
    }

    // Someone else was signed in at the IdP in this browser: start a fresh IdP session rather
    // than let oidc-provider ask the browser to confirm a sign-out first.
    const previous = interaction.session;
    if (previous && previous.accountId !== entry.sub) {
      delete interaction.session;
      await interaction.persist();
      if (previous.uid) await (await provider.Session.findByUid(previous.uid))?.destroy();
    }

    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: entry.sub, amr: ["pwd"], remember: false } },
      { mergeWithLastSubmission: false },
    );
  }

  async function loadInteraction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Interaction | undefined> {
    let interaction: Interaction | undefined;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch {
      interaction = undefined;
    }
    if (!interaction || interaction.uid !== uid || interaction.prompt.name !== "login") {
      sendHtml(
        res,
        400,
        messagePage("Sign-in expired", "This sign-in request has expired or is not valid. Go back to the application and sign in again."),
      );
      return undefined;
    }
    return interaction;
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://dev-idp.invalid");
    let path = url.pathname;
    if (mountPath) {
      if (path !== mountPath && !path.startsWith(`${mountPath}/`)) {
        sendHtml(res, 404, messagePage("Not found", "There is nothing here."));
        return;
      }
      // Mounted the way connect/express mount it: oidc-provider derives its URLs from the
      // difference between originalUrl and url.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      path = path.slice(mountPath.length) || "/";
      req.url = `${path}${url.search}`;
    }

    const interaction = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/?$/.exec(path);
    if (interaction?.[1]) {
      const uid = interaction[1];
      const action = `${mountPath}/interaction/${uid}`;
      if (req.method === "GET") return showLogin(req, res, uid, action);
      if (req.method === "POST") return submitLogin(req, res, uid, action);
      res.setHeader("Allow", "GET, POST");
      sendHtml(res, 405, messagePage("Not allowed", "Use the sign-in form."));
      return;
    }

    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      sendHtml(
        res,
        200,
        messagePage(
          "Development identity provider",
          `This OpenID Connect provider exists for Custody's demo mode and tests. Discovery: ${issuer}/.well-known/openid-configuration`,
        ),
      );
      return;
    }

    await providerHandler(req, res);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.error(errorFields(error), "dev IdP request failed");
      if (!res.headersSent) sendHtml(res, 500, messagePage("Something went wrong", "The development identity provider failed; see its log."));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `The dev IdP could not listen on port ${options.port}: it is already in use`
            : `The dev IdP could not start: ${error.message}`,
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    issuer,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

