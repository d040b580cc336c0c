import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { errorFields, log } from "@/lib/log";
import { type Directory, findAccount } from "./directory";
import { memoryAdapterFactory } from "./memory-adapter";
import { type Grant, interactionPolicy, type OidcContext, type OidcProvider, Provider } from "./oidc-types";
import { errorPage, logoutPage, messagePage } from "./pages";

// The dev IdP's oidc-provider configuration: the clients, a fresh signing key and cookie key per
// start, the scopes and claims, PKCE required, a password on every authorization request, and
// first-party consent.

export type DevIdpClient = {
  clientId: string;
  clientSecret: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris?: readonly string[];
};

/** Asks for the password on every authorization request: the login prompt is satisfied only by a login during this very request (the interaction result). */
function passwordEveryTime() {
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
  return policy;
}

function clientMetadata(client: DevIdpClient) {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    // client_secret_post is accepted too: oidc-provider treats the two as interchangeable.
    token_endpoint_auth_method: "client_secret_basic",
  };
}

export function createProvider(options: {
  issuer: string;
  /** Whether the issuer is https (then X-Forwarded-Proto from a TLS-terminating proxy is trusted). */
  https: boolean;
  mountPath: string;
  clients: readonly DevIdpClient[];
  directory: Directory;
}): OidcProvider {
  const { mountPath, directory } = options;
  const clientIds = new Set(options.clients.map((c) => c.clientId));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };

  const configuration: Record<string, unknown> = {
    adapter: memoryAdapterFactory(),
    clients: options.clients.map(clientMetadata),
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
          ctx.body = logoutPage(form);
        },
        async postLogoutSuccessSource(ctx: OidcContext) {
          ctx.type = "html";
          ctx.body = messagePage("Signed out", "You have signed out of the development identity provider.");
        },
      },
    },
    interactions: {
      policy: passwordEveryTime(),
      url: (_ctx: OidcContext, interaction: { uid: string }) => `${mountPath}/interaction/${interaction.uid}`,
    },
    findAccount: async (_ctx: OidcContext, sub: string) => findAccount(directory, sub),
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
      ctx.body = errorPage(out);
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
  const provider = new Provider(options.issuer, configuration);
  // Behind a TLS-terminating proxy an https issuer needs X-Forwarded-Proto to be trusted;
  // a plain-http issuer must not trust it.
  provider.proxy = options.https;
  provider.on("server_error", (_ctx, error) => log.error(errorFields(error), "dev IdP server error"));
  return provider;
}
