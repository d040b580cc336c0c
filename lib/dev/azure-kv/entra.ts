import { timingSafeEqual } from "node:crypto";
import { EntraError } from "./errors";
import type { AzureKvStore } from "./store";
import type { TokenSigner } from "./tokens";

// The development Microsoft Entra ID: the per-tenant OpenID metadata MSAL reads for an authority
// it was told to trust (instance discovery off), and the token endpoint's client-credentials
// grant with a client secret. An app gets a token for a tenant only where it has a service
// principal (its home tenant, or a customer's tenant that consented to it), as in Entra, and
// only for the resources this server serves (its Key Vault and Managed HSM audiences).

export type EntraRequest = { method: string; path: string; body: string };
export type EntraAnswer = { status: number; body: object };

const TOKEN_SECONDS = 3600;

export function handleEntra(
  request: EntraRequest,
  context: { origin: string; store: AzureKvStore; signer: TokenSigner; audiences: readonly string[]; now: number },
): EntraAnswer {
  const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(request.path);
  if (!match) return { status: 404, body: { error: "not_found" } };
  const tenant = decodeURIComponent(match[1]!);
  if (!context.store.knowsTenant(tenant)) {
    throw new EntraError(400, "invalid_request", 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  const base = `${context.origin}/${tenant}`;
  if (match[2]!.startsWith("v2.0")) {
    return {
      status: 200,
      body: {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ["code", "id_token", "token"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        tenant_region_scope: "EU",
      },
    };
  }
  if (request.method !== "POST") return { status: 405, body: { error: "invalid_request" } };
  return { status: 200, body: issueToken(tenant, new URLSearchParams(request.body), context) };
}

function issueToken(
  tenant: string,
  form: URLSearchParams,
  context: { store: AzureKvStore; signer: TokenSigner; audiences: readonly string[]; now: number },
): object {
  if (form.get("grant_type") !== "client_credentials") {
    throw new EntraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
  }
  const clientId = form.get("client_id") ?? "";
  const app = context.store.app(clientId);
  if (!app || !context.store.hasServicePrincipal(tenant, clientId)) {
    throw new EntraError(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }
  const secret = Buffer.from(form.get("client_secret") ?? "");
  const expected = Buffer.from(app.secret);
  if (secret.length !== expected.length || !timingSafeEqual(secret, expected)) {
    throw new EntraError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
  }
  const scope = (form.get("scope") ?? "").split(" ").find((s) => s.endsWith("/.default"));
  const audience = scope?.slice(0, -"/.default".length);
  if (!audience || !context.audiences.includes(audience)) {
    throw new EntraError(400, "invalid_resource", 500011, `The resource principal named ${audience ?? "(none)"} was not found in the tenant named ${tenant}.`);
  }
  const iat = Math.floor(context.now / 1000);
  const token = context.signer.sign({ aud: audience, tid: tenant, appid: clientId, iat, nbf: iat, exp: iat + TOKEN_SECONDS, iss: `https://sts.windows.net/${tenant}/` });
  return { token_type: "Bearer", expires_in: TOKEN_SECONDS, ext_expires_in: TOKEN_SECONDS, access_token: token };
}
