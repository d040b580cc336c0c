import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { badRequest, permissionDenied } from "./errors";
import type { AppRoleRecord, NamespaceState, TokenRecord } from "./model";

// Tokens and AppRole in the development Vault. Token values look like Vault's service tokens
// ("hvs." + random); only their SHA-256 is stored, as is each secret id's. A token is valid in
// the namespace that issued it until its TTL passes. AppRole login trades a role id and a
// secret id for a token carrying the role's token_policies.

/** Seconds a token lives when nothing else says (Vault's default max TTL is 32 days). */
export const DEFAULT_TOKEN_TTL = 768 * 3600;

export const hashSecret = (value: string) => createHash("sha256").update(value, "utf8").digest("hex");

export function newTokenValue(): string {
  return `hvs.${randomBytes(24).toString("base64url")}`;
}

/** Issues a token in `ns`; returns its value (shown once). */
export function issueToken(ns: NamespaceState, record: Omit<TokenRecord, "accessor">, value = newTokenValue()): { value: string; record: TokenRecord } {
  const full: TokenRecord = { ...record, accessor: randomBytes(12).toString("base64url") };
  ns.tokens[hashSecret(value)] = full;
  return { value, record: full };
}

/** The token a request carries, or a 403 as Vault gives for a missing, unknown or expired one. */
export function lookupToken(ns: NamespaceState, value: string | undefined, now: number): TokenRecord {
  if (!value) throw permissionDenied();
  const record = ns.tokens[hashSecret(value)];
  if (!record || (record.ttl > 0 && now >= record.createdAt + record.ttl * 1000)) throw permissionDenied();
  return record;
}

/** A TTL in seconds from a number or a Go-style duration ("90s", "15m", "1h", "2d"). */
export function parseTtl(value: unknown, field: string): number {
  if (value === undefined || value === "") return 0;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  const match = typeof value === "string" ? /^(\d{1,9})([smhd]?)$/.exec(value) : null;
  if (!match) throw badRequest(`invalid ${field}: must be seconds or a duration such as 1h`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

export function policyList(value: unknown, field: string): string[] {
  const list = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : value === undefined ? [] : undefined;
  if (!list || list.some((p) => typeof p !== "string")) throw badRequest(`${field} must be a list of policy names`);
  return [...new Set((list as string[]).map((p) => p.trim()).filter(Boolean))];
}

/** The `data` of auth/token/lookup-self. */
export function tokenLookup(record: TokenRecord, value: string, now: number): Record<string, unknown> {
  const expires = record.ttl > 0 ? record.createdAt + record.ttl * 1000 : null;
  return {
    accessor: record.accessor,
    creation_time: Math.floor(record.createdAt / 1000),
    creation_ttl: record.ttl,
    display_name: record.displayName,
    entity_id: "",
    expire_time: expires === null ? null : new Date(expires).toISOString(),
    explicit_max_ttl: 0,
    id: value,
    meta: record.meta,
    num_uses: 0,
    orphan: true,
    path: record.path,
    policies: record.policies,
    renewable: record.ttl > 0,
    ttl: expires === null ? 0 : Math.max(0, Math.floor((expires - now) / 1000)),
    type: "service",
  };
}

/** The `auth` block of a login or token creation. */
export function authBlock(value: string, record: TokenRecord): Record<string, unknown> {
  return {
    client_token: value,
    accessor: record.accessor,
    policies: record.policies,
    token_policies: record.policies,
    identity_policies: null,
    metadata: record.meta,
    lease_duration: record.ttl,
    renewable: record.ttl > 0,
    entity_id: "",
    token_type: "service",
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
}

export function newRole(name: string, body: Record<string, unknown>, existing: AppRoleRecord | undefined): AppRoleRecord {
  return {
    name,
    roleId: existing?.roleId ?? randomUUID(),
    tokenPolicies: body.token_policies !== undefined || body.policies !== undefined ? policyList(body.token_policies ?? body.policies, "token_policies") : existing?.tokenPolicies ?? [],
    tokenTtl: body.token_ttl !== undefined ? parseTtl(body.token_ttl, "token_ttl") : existing?.tokenTtl ?? 0,
    secretIdTtl: body.secret_id_ttl !== undefined ? parseTtl(body.secret_id_ttl, "secret_id_ttl") : existing?.secretIdTtl ?? 0,
    secretIds: existing?.secretIds ?? {},
  };
}

export function newSecretId(role: AppRoleRecord, now: number): { secretId: string; accessor: string } {
  const secretId = randomUUID();
  const accessor = randomUUID();
  role.secretIds[hashSecret(secretId)] = { accessor, createdAt: now, expiresAt: role.secretIdTtl > 0 ? now + role.secretIdTtl * 1000 : null };
  return { secretId, accessor };
}

/** AppRole login: the role whose role id and secret id match, or Vault's 400. */
export function appRoleLogin(ns: NamespaceState, body: Record<string, unknown>, now: number): AppRoleRecord {
  const invalid = () => badRequest("invalid role or secret ID");
  if (typeof body.role_id !== "string" || body.role_id === "") throw badRequest("missing role_id");
  if (typeof body.secret_id !== "string" || body.secret_id === "") throw badRequest("missing secret_id");
  const wanted = Buffer.from(body.role_id, "utf8");
  const role = Object.values(ns.approle.roles).find((r) => {
    const have = Buffer.from(r.roleId, "utf8");
    return have.length === wanted.length && timingSafeEqual(have, wanted);
  });
  if (!role) throw invalid();
  const secret = role.secretIds[hashSecret(body.secret_id)];
  if (!secret || (secret.expiresAt !== null && now >= secret.expiresAt)) throw invalid();
  return role;
}
