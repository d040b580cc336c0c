import { randomUUID } from "node:crypto";
import { badRequest, notFound, permissionDenied, unsupportedOperation, VaultHttpError } from "./errors";
import { emptyNamespace, type NamespaceState, type TokenRecord, type TransitMount, type VaultState } from "./model";
import { capabilitiesOn, DEFAULT_POLICY, parsePolicy, PolicyParseError, type Capability, type PolicyRule } from "./policy";
import {
  appRoleLogin,
  authBlock,
  DEFAULT_TOKEN_TTL,
  issueToken,
  lookupToken,
  newRole,
  newSecretId,
  parseTtl,
  policyList,
  tokenLookup,
} from "./tokens";
import { configureKey, createKey, decrypt, describeKey, encrypt, findKey, KEY_NAME, readKey, rotateKey } from "./transit";

// The development Vault's API behind /v1/: the paths Custody and a customer's set-up use, each
// with the capability Vault's ACL requires of the token (a write to a path whose object does
// not exist yet needs `create`, as in Vault's existence checks), answered in Vault's envelope.

export type Method = "GET" | "LIST" | "WRITE" | "DELETE";
export type ApiRequest = { method: Method; path: string; namespace: string; token: string | undefined; body: Record<string, unknown>; now: number };
export type ApiResult = { status: number; body?: Record<string, unknown> };

/** What a route can touch: the live state (read) and a way to change it. */
export type Store = { readonly state: Readonly<VaultState>; mutate<T>(change: (draft: VaultState) => T): T };

type Ctx = { req: ApiRequest; ns: NamespaceState; store: Store; params: string[]; change<T>(work: (ns: NamespaceState) => T): T };
type Handler = (ctx: Ctx) => ApiResult;
type Route = {
  path: RegExp;
  /** No token needed (login). */
  open?: boolean;
  /** Whether the object a write names already exists (else the write needs `create`). */
  exists?: (ctx: Ctx) => boolean;
  handlers: Partial<Record<Method, Handler>>;
};

const ok = (data: Record<string, unknown> | null, extra: Record<string, unknown> = {}): ApiResult => ({
  status: 200,
  body: { request_id: randomUUID(), lease_id: "", renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, mount_type: "", ...extra },
});
const noContent = (): ApiResult => ({ status: 204 });

const SYSTEM_ROUTES: Route[] = [
  {
    path: /^sys\/namespaces\/([A-Za-z0-9_-]{1,64})$/,
    exists: (ctx) => ctx.store.state.namespaces[ctx.params[0]!] !== undefined,
    handlers: {
      WRITE: (ctx) => {
        ctx.store.mutate((draft) => (draft.namespaces[ctx.params[0]!] ??= emptyNamespace()));
        return ok({ path: `${ctx.params[0]}/` });
      },
    },
  },
  {
    path: /^sys\/mounts\/(.+)$/,
    exists: (ctx) => ctx.ns.mounts[ctx.params[0]!] !== undefined,
    handlers: {
      WRITE: (ctx) => {
        if (ctx.req.body.type !== "transit") throw badRequest("the development Vault mounts only the transit secrets engine");
        const path = ctx.params[0]!;
        if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(path) || path.startsWith("sys") || path.startsWith("auth")) throw badRequest(`invalid mount path ${path}`);
        if (ctx.ns.mounts[path]) throw badRequest(`path is already in use at ${path}/`);
        ctx.change((ns) => (ns.mounts[path] = { type: "transit", keys: {} }));
        return noContent();
      },
    },
  },
  {
    path: /^sys\/auth\/approle$/,
    handlers: {
      WRITE: (ctx) => {
        if (ctx.req.body.type !== "approle") throw badRequest("the development Vault enables only approle at auth/approle");
        ctx.change((ns) => (ns.approle.enabled = true));
        return noContent();
      },
    },
  },
  {
    path: /^sys\/(?:policies\/acl|policy)\/([A-Za-z0-9_.-]{1,128})$/,
    exists: (ctx) => ctx.ns.policies[ctx.params[0]!] !== undefined,
    handlers: {
      GET: (ctx) => {
        const text = ctx.ns.policies[ctx.params[0]!];
        if (text === undefined) throw notFound();
        return ok({ name: ctx.params[0], policy: text, rules: text });
      },
      WRITE: (ctx) => {
        const name = ctx.params[0]!;
        const text = ctx.req.body.policy ?? ctx.req.body.rules;
        if (typeof text !== "string" || text.trim() === "") throw badRequest("'policy' parameter not supplied or empty");
        if (name === "root" || name === "default") throw badRequest(`cannot update ${name} policy`);
        try {
          parsePolicy(text);
        } catch (error) {
          if (error instanceof PolicyParseError) throw badRequest(`failed to parse policy: ${error.message}`);
          throw error;
        }
        ctx.change((ns) => (ns.policies[name] = text));
        return noContent();
      },
      DELETE: (ctx) => {
        ctx.change((ns) => delete ns.policies[ctx.params[0]!]);
        return noContent();
      },
    },
  },
];

const TOKEN_ROUTES: Route[] = [
  {
    path: /^auth\/token\/create$/,
    handlers: {
      WRITE: (ctx) => {
        const policies = policyList(ctx.req.body.policies, "policies");
        const withDefault = ctx.req.body.no_default_policy === true ? policies : [...new Set(["default", ...policies])];
        const ttl = parseTtl(ctx.req.body.ttl, "ttl") || DEFAULT_TOKEN_TTL;
        const displayName = typeof ctx.req.body.display_name === "string" ? `token-${ctx.req.body.display_name}` : "token";
        const issued = ctx.change((ns) => issueToken(ns, { policies: withDefault, createdAt: ctx.req.now, ttl, displayName, path: "auth/token/create", meta: null }));
        return ok(null, { auth: authBlock(issued.value, issued.record) });
      },
    },
  },
  {
    path: /^auth\/token\/lookup-self$/,
    handlers: {
      GET: (ctx) => ok(tokenLookup(lookupToken(ctx.ns, ctx.req.token, ctx.req.now), ctx.req.token!, ctx.req.now)),
    },
  },
  {
    path: /^auth\/token\/revoke-self$/,
    handlers: {
      WRITE: (ctx) => {
        const record = lookupToken(ctx.ns, ctx.req.token, ctx.req.now);
        ctx.change((ns) => {
          for (const [hash, token] of Object.entries(ns.tokens)) if (token.accessor === record.accessor) delete ns.tokens[hash];
        });
        return noContent();
      },
    },
  },
];

const APPROLE_ROUTES: Route[] = [
  {
    path: /^auth\/approle\/login$/,
    open: true,
    handlers: {
      WRITE: (ctx) => {
        const role = appRoleLogin(ctx.ns, ctx.req.body, ctx.req.now);
        const issued = ctx.change((ns) =>
          issueToken(ns, {
            policies: [...new Set(["default", ...role.tokenPolicies])],
            createdAt: ctx.req.now,
            ttl: role.tokenTtl || DEFAULT_TOKEN_TTL,
            displayName: "approle",
            path: "auth/approle/login",
            meta: { role_name: role.name },
          }),
        );
        return ok(null, { auth: authBlock(issued.value, issued.record) });
      },
    },
  },
  {
    path: /^auth\/approle\/role\/([A-Za-z0-9_.-]{1,128})$/,
    exists: (ctx) => ctx.ns.approle.roles[ctx.params[0]!] !== undefined,
    handlers: {
      GET: (ctx) => {
        const role = ctx.ns.approle.roles[ctx.params[0]!];
        if (!role) throw notFound();
        return ok({ token_policies: role.tokenPolicies, token_ttl: role.tokenTtl, secret_id_ttl: role.secretIdTtl, bind_secret_id: true });
      },
      WRITE: (ctx) => {
        const name = ctx.params[0]!;
        ctx.change((ns) => (ns.approle.roles[name] = newRole(name, ctx.req.body, ns.approle.roles[name])));
        return noContent();
      },
      DELETE: (ctx) => {
        ctx.change((ns) => delete ns.approle.roles[ctx.params[0]!]);
        return noContent();
      },
    },
  },
  {
    path: /^auth\/approle\/role\/([A-Za-z0-9_.-]{1,128})\/role-id$/,
    handlers: {
      GET: (ctx) => {
        const role = ctx.ns.approle.roles[ctx.params[0]!];
        if (!role) throw badRequest(`role "${ctx.params[0]}" does not exist`);
        return ok({ role_id: role.roleId });
      },
    },
  },
  {
    path: /^auth\/approle\/role\/([A-Za-z0-9_.-]{1,128})\/secret-id$/,
    handlers: {
      WRITE: (ctx) => {
        if (!ctx.ns.approle.roles[ctx.params[0]!]) throw badRequest(`role "${ctx.params[0]}" does not exist`);
        const made = ctx.change((ns) => newSecretId(ns.approle.roles[ctx.params[0]!]!, ctx.req.now));
        const role = ctx.ns.approle.roles[ctx.params[0]!]!;
        return ok({ secret_id: made.secretId, secret_id_accessor: made.accessor, secret_id_ttl: role.secretIdTtl, secret_id_num_uses: 0 });
      },
    },
  },
];

/** The transit routes under one mount (`mount` is the mount path, params[0] the key name). */
function transitRoutes(mount: string): Route[] {
  const keyOf = (ctx: Ctx) => {
    const name = ctx.params[0]!;
    if (!KEY_NAME.test(name)) throw badRequest("invalid key name");
    return name;
  };
  const mountOf = (ns: NamespaceState): TransitMount => ns.mounts[mount]!;
  const escaped = mount.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const keyExists = (ctx: Ctx) => mountOf(ctx.ns).keys[ctx.params[0]!] !== undefined;
  const softDelete = (ctx: Ctx, deleted: boolean): ApiResult => {
    const name = keyOf(ctx);
    findKey(mountOf(ctx.ns), name);
    if ((ctx.params[1] === "-restore") === deleted) throw unsupportedOperation();
    ctx.change((ns) => (mountOf(ns).keys[name]!.softDeleted = deleted));
    return noContent();
  };
  return [
    { path: new RegExp(`^${escaped}/keys/?$`), handlers: { LIST: (ctx) => ok({ keys: Object.keys(mountOf(ctx.ns).keys).sort() }) } },
    {
      path: new RegExp(`^${escaped}/keys/([^/]+)$`),
      exists: keyExists,
      handlers: {
        GET: (ctx) => ok(describeKey(readKey(mountOf(ctx.ns), keyOf(ctx)))),
        WRITE: (ctx) => {
          const name = keyOf(ctx);
          const type = ctx.req.body.type ?? "aes256-gcm96";
          if (type !== "aes256-gcm96") throw badRequest(`the development Vault supports only aes256-gcm96 keys, not ${String(type)}`);
          const derived = ctx.req.body.derived === true || ctx.req.body.derived === "true";
          const key = ctx.change((ns) => (mountOf(ns).keys[name] ??= createKey(name, { derived, now: ctx.req.now })));
          return ok(describeKey(key));
        },
        DELETE: (ctx) => {
          const name = keyOf(ctx);
          const key = readKey(mountOf(ctx.ns), name);
          if (!key.deletionAllowed) throw badRequest("deletion is not allowed for this key");
          ctx.change((ns) => delete mountOf(ns).keys[name]);
          return noContent();
        },
      },
    },
    {
      // OpenBao: DELETE …/soft-delete keeps the key but refuses every use; …/soft-delete-restore undoes it.
      path: new RegExp(`^${escaped}/keys/([^/]+)/soft-delete(-restore)?$`),
      handlers: {
        DELETE: (ctx) => softDelete(ctx, true),
        WRITE: (ctx) => softDelete(ctx, false),
      },
    },
    {
      path: new RegExp(`^${escaped}/keys/([^/]+)/rotate$`),
      handlers: {
        WRITE: (ctx) => {
          const name = keyOf(ctx);
          findKey(mountOf(ctx.ns), name);
          return ok(describeKey(ctx.change((ns) => {
            const key = mountOf(ns).keys[name]!;
            rotateKey(key, ctx.req.now);
            return key;
          })));
        },
      },
    },
    {
      path: new RegExp(`^${escaped}/keys/([^/]+)/config$`),
      handlers: {
        WRITE: (ctx) => {
          const name = keyOf(ctx);
          findKey(mountOf(ctx.ns), name);
          return ok(describeKey(ctx.change((ns) => {
            const key = mountOf(ns).keys[name]!;
            configureKey(key, ctx.req.body);
            return key;
          })));
        },
      },
    },
    {
      path: new RegExp(`^${escaped}/encrypt/([^/]+)$`),
      exists: keyExists,
      handlers: {
        WRITE: (ctx) => {
          const name = keyOf(ctx);
          const existing = mountOf(ctx.ns).keys[name];
          if (existing) return ok(encrypt(existing, ctx.req.body));
          // Upsert, as Vault does when the token may `create`: a context makes it a derived key.
          const derived = typeof ctx.req.body.context === "string" && ctx.req.body.context !== "";
          const key = createKey(name, { derived, now: ctx.req.now });
          const result = encrypt(key, ctx.req.body);
          ctx.change((ns) => (mountOf(ns).keys[name] = key));
          return ok(result);
        },
      },
    },
    {
      path: new RegExp(`^${escaped}/decrypt/([^/]+)$`),
      handlers: { WRITE: (ctx) => ok(decrypt(findKey(mountOf(ctx.ns), keyOf(ctx)), ctx.req.body)) },
    },
  ];
}

function routesFor(ns: NamespaceState): Route[] {
  // Longer mount paths first, so a nested mount is not taken for its parent's keys.
  const mounts = Object.keys(ns.mounts).sort((a, b) => b.length - a.length);
  return [...SYSTEM_ROUTES, ...TOKEN_ROUTES, ...(ns.approle.enabled ? APPROLE_ROUTES : []), ...mounts.flatMap(transitRoutes)];
}

function requiredCapability(route: Route, ctx: Ctx): Capability {
  switch (ctx.req.method) {
    case "GET":
      return "read";
    case "LIST":
      return "list";
    case "DELETE":
      return "delete";
    case "WRITE":
      return route.exists && !route.exists(ctx) ? "create" : "update";
  }
}

function rulesOf(ns: NamespaceState, token: TokenRecord): PolicyRule[] | "root" {
  if (token.policies.includes("root")) return "root";
  const texts = token.policies.map((name) => (name === "default" ? DEFAULT_POLICY : ns.policies[name])).filter((t): t is string => t !== undefined);
  return texts.flatMap((text) => parsePolicy(text));
}

/**
 * The request's token: one issued in the request's namespace, or (as in Vault) one of the root
 * namespace, whose policies then name the path with the namespace in front ("acme/transit/…").
 */
function resolveToken(state: Readonly<VaultState>, req: ApiRequest): { token: TokenRecord; home: NamespaceState; aclPath: string } {
  const ns = state.namespaces[req.namespace]!;
  try {
    return { token: lookupToken(ns, req.token, req.now), home: ns, aclPath: req.path };
  } catch (error) {
    const root = state.namespaces[""]!;
    if (req.namespace === "" || !(error instanceof VaultHttpError)) throw error;
    return { token: lookupToken(root, req.token, req.now), home: root, aclPath: `${req.namespace}/${req.path}` };
  }
}

/** Answers one API request (the server has already handled sealing and faults). */
export function handleApi(store: Store, req: ApiRequest): ApiResult {
  const ns = store.state.namespaces[req.namespace];
  if (!ns) throw permissionDenied();
  for (const route of routesFor(ns)) {
    const match = route.path.exec(req.path);
    if (!match) continue;
    const ctx: Ctx = {
      req,
      ns,
      store,
      params: match.slice(1),
      change: (work) => store.mutate((draft) => work(draft.namespaces[req.namespace]!)),
    };
    const handler = route.handlers[req.method];
    if (!route.open) {
      const { token, home, aclPath } = resolveToken(store.state, req);
      const rules = rulesOf(home, token);
      if (rules !== "root") {
        const granted = capabilitiesOn(rules, aclPath);
        if (granted.has("deny") || !granted.has(requiredCapability(route, ctx))) throw permissionDenied();
      }
    }
    if (!handler) throw unsupportedOperation();
    return handler(ctx);
  }
  if (req.token === undefined) throw permissionDenied();
  throw new VaultHttpError(404, [`no handler for route "${req.path}". route entry not found.`]);
}
