import { badParameter, forbiddenByRbac, KeyVaultError, keyDisabled, keyExpired, keyNotYetValid, unauthorized } from "./errors";
import { dataAction, ROLES, type KeyOperation } from "./roles";
import { publicJwk, unwrap, wrap, type AzureKvStore, type KeyVersion, type Vault } from "./store";
import type { TokenSigner } from "./tokens";

// The Key Vault (and Managed HSM) data plane for what Custody uses: GET a key (a version, or
// the current one), and wrapkey / unwrapkey. Each request needs a bearer token this server's
// Entra issued, for this vault's resource and the vault's own tenant; without one it answers
// 401 with the challenge that tells the client where to get one. Then the caller's role
// assignments (or the vault's access policies) are checked for the operation, then the key's
// attributes: disabled keys cannot unwrap, expired or not-yet-valid keys cannot wrap or unwrap.

export type VaultRequest = { method: string; path: string; query: URLSearchParams; authorization: string | undefined; body: string };

export type VaultContext = {
  store: AzureKvStore;
  signer: TokenSigner;
  vault: Vault;
  /** e.g. https://acme.vault.localhost:4443, the base of every kid. */
  vaultUrl: string;
  /** The resource the challenge names and tokens must be for, e.g. https://vault.localhost. */
  resource: string;
  authority: string;
  now: number;
};

export function challengeHeader(context: { authority: string; resource: string; vault: Vault }): string {
  return `Bearer authorization="${context.authority}/${context.vault.tenantId}", resource="${context.resource}"`;
}

/** Authenticates the request; returns the calling app's client id. */
export function authenticate(request: VaultRequest, context: VaultContext): string {
  const token = /^Bearer (.+)$/.exec(request.authorization ?? "")?.[1];
  if (!token) throw unauthorized("AKV10000: Request is missing a Bearer or PoP token.");
  const claims = context.signer.verify(token);
  if (!claims) throw unauthorized("AKV10022: Invalid audience or signature.");
  if (claims.aud !== context.resource) throw unauthorized(`AKV10022: Invalid audience. Expected ${context.resource}, found: ${claims.aud}.`);
  if (claims.tid !== context.vault.tenantId) throw unauthorized("AKV10032: Invalid issuer. The token is from another tenant than the vault's.");
  if (claims.exp * 1000 <= context.now) throw unauthorized("AKV10012: Token has expired.");
  return claims.appid;
}

export function handleVault(request: VaultRequest, caller: string, context: VaultContext): object {
  if (!request.query.get("api-version")) throw badParameter("The 'api-version' query parameter is missing.");
  const match = /^\/keys\/([A-Za-z0-9-]{1,127})(?:\/([0-9a-fA-F]{32}))?(?:\/(wrapkey|unwrapkey))?\/?$/i.exec(request.path);
  if (!match) throw new KeyVaultError(404, "NotFound", "The requested resource was not found.");
  const [, name, version, action] = match as unknown as [string, string, string | undefined, string | undefined];
  const operation: KeyOperation = !action ? "get" : action.toLowerCase() === "wrapkey" ? "wrapKey" : "unwrapKey";
  if ((operation === "get") !== (request.method === "GET")) throw new KeyVaultError(405, "MethodNotAllowed", `${request.method} is not allowed here.`);
  authorize(caller, operation, name, context);
  const key = context.store.keyVersion(context.vault, name, version);
  const kid = `${context.vaultUrl}/keys/${name}/${key.version}`;
  if (operation === "get") return keyBundle(kid, key);
  checkUsable(key, operation, context.now);
  const { alg, value } = parseBody(request.body);
  const result = operation === "wrapKey" ? wrap(key, alg, value) : unwrap(key, alg, value);
  return { kid, value: result.toString("base64url") };
}

function authorize(caller: string, operation: KeyOperation, keyName: string, context: VaultContext): void {
  const { vault } = context;
  const allowed =
    vault.permissionModel === "accessPolicy"
      ? vault.accessPolicies.some((p) => p.principal === caller && p.keyPermissions.includes(operation))
      : vault.roleAssignments.some(
          (a) => a.principal === caller && (a.scope === "/" || a.scope === `/keys/${keyName}`) && (ROLES[a.role]?.operations.includes(operation) ?? false),
        );
  if (allowed) return;
  if (vault.permissionModel === "accessPolicy") {
    throw new KeyVaultError(403, "Forbidden", `The user, group or application 'appid=${caller}' does not have keys ${operation.toLowerCase()} permission on key vault '${vault.name}'.`, "AccessDenied");
  }
  throw forbiddenByRbac(`appid=${caller}`, dataAction(vault.kind, operation), `${context.vaultUrl}/keys/${keyName}`);
}

function checkUsable(key: KeyVersion, operation: KeyOperation, now: number): void {
  const seconds = now / 1000;
  if (!key.enabled && operation === "unwrapKey") throw keyDisabled(operation);
  if (key.exp !== undefined && seconds >= key.exp) throw keyExpired(operation);
  if (key.nbf !== undefined && seconds < key.nbf) throw keyNotYetValid(operation);
}

function parseBody(body: string): { alg: string; value: Buffer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw badParameter("The request body is not valid JSON.");
  }
  const { alg, value } = (parsed ?? {}) as { alg?: unknown; value?: unknown };
  if (typeof alg !== "string" || typeof value !== "string" || !/^[A-Za-z0-9_-]*$/.test(value)) {
    throw badParameter("The request needs 'alg' and a base64url 'value'.");
  }
  return { alg, value: Buffer.from(value, "base64url") };
}

function keyBundle(kid: string, key: KeyVersion): object {
  return {
    key: publicJwk(kid, key),
    attributes: {
      enabled: key.enabled,
      ...(key.nbf !== undefined ? { nbf: key.nbf } : {}),
      ...(key.exp !== undefined ? { exp: key.exp } : {}),
      created: key.created,
      updated: key.updated,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
      exportable: false,
    },
  };
}
