import { createCipheriv, createDecipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, constants, createPrivateKey, createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { badParameter, keyNotFound } from "./errors";
import { ROLES, type KeyOperation, type VaultKind } from "./roles";

// What the development Key Vault holds: Entra directories (tenants) with the service principals
// present in each, vaults and Managed HSMs with their keys (every version), role assignments
// and access policies. Kept in one JSON file (mode 0600) under the data folder, so the demo's
// wrapped keys still open after a restart. Key material is in clear in that file: this is a
// development server, never a place for real keys.

export type KeyType = "RSA" | "RSA-HSM" | "oct-HSM";

export type KeyVersion = {
  version: string;
  kty: KeyType;
  /** PKCS#8 PEM for RSA, base64 of the raw 32 bytes for oct-HSM. */
  material: string;
  enabled: boolean;
  /** Seconds since the epoch, as Key Vault's attributes. */
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
};

export type RoleAssignment = { principal: string; role: string; scope: string };

export type Vault = {
  name: string;
  kind: VaultKind;
  tenantId: string;
  /** "rbac" (Azure RBAC; always for Managed HSM) or "accessPolicy" (legacy vault access policies). */
  permissionModel: "rbac" | "accessPolicy";
  roleAssignments: RoleAssignment[];
  accessPolicies: { principal: string; keyPermissions: KeyOperation[] }[];
  /** Key name → versions, oldest first; the last is the current version. */
  keys: Record<string, KeyVersion[]>;
};

export type App = { clientId: string; secret: string; homeTenant: string };

type State = {
  apps: App[];
  /** Tenant id → client ids of the apps with a service principal there (consented). */
  servicePrincipals: Record<string, string[]>;
  vaults: Record<string, Vault>;
};

const FILE = "azure-kv.json";

export class AzureKvStore {
  private constructor(
    private readonly file: string | undefined,
    private state: State,
  ) {}

  static open(dataDir: string | undefined): AzureKvStore {
    if (!dataDir) return new AzureKvStore(undefined, { apps: [], servicePrincipals: {}, vaults: {} });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, FILE);
    const state = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as State) : { apps: [], servicePrincipals: {}, vaults: {} };
    return new AzureKvStore(file, state);
  }

  private save(): void {
    if (!this.file) return;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }

  // --- Entra -------------------------------------------------------------------------------

  /** Registers an app (idempotent) and gives it a service principal in its home tenant. */
  registerApp(app: App): void {
    this.state.apps = this.state.apps.filter((a) => a.clientId !== app.clientId).concat(app);
    this.setServicePrincipal(app.homeTenant, app.clientId, true);
  }

  app(clientId: string): App | undefined {
    return this.state.apps.find((a) => a.clientId === clientId);
  }

  /** Adds (admin consent) or removes an app's service principal in a tenant. */
  setServicePrincipal(tenantId: string, clientId: string, present: boolean): void {
    const current = new Set(this.state.servicePrincipals[tenantId] ?? []);
    if (present) current.add(clientId);
    else current.delete(clientId);
    this.state.servicePrincipals[tenantId] = [...current];
    this.save();
  }

  hasServicePrincipal(tenantId: string, clientId: string): boolean {
    return (this.state.servicePrincipals[tenantId] ?? []).includes(clientId);
  }

  knowsTenant(tenantId: string): boolean {
    return tenantId in this.state.servicePrincipals || Object.values(this.state.vaults).some((v) => v.tenantId === tenantId);
  }

  // --- vaults and keys ---------------------------------------------------------------------

  createVault(input: { name: string; kind: VaultKind; tenantId: string; permissionModel?: "rbac" | "accessPolicy" }): Vault {
    const existing = this.state.vaults[vaultId(input.kind, input.name)];
    if (existing) return existing;
    const vault: Vault = {
      name: input.name,
      kind: input.kind,
      tenantId: input.tenantId,
      permissionModel: input.kind === "managedhsm" ? "rbac" : (input.permissionModel ?? "rbac"),
      roleAssignments: [],
      accessPolicies: [],
      keys: {},
    };
    this.state.vaults[vaultId(input.kind, input.name)] = vault;
    this.state.servicePrincipals[input.tenantId] ??= [];
    this.save();
    return vault;
  }

  vault(kind: VaultKind, name: string): Vault | undefined {
    return this.state.vaults[vaultId(kind, name)];
  }

  /** Creates a key, or a new current version of it; returns the new version's id. */
  createKeyVersion(vault: Vault, name: string, kty: KeyType, attributes: { enabled?: boolean; nbf?: number; exp?: number } = {}, now = Date.now()): string {
    if (vault.kind === "managedhsm" && kty === "RSA") throw new Error("Managed HSM keys are RSA-HSM or oct-HSM");
    if (vault.kind === "vault" && kty === "oct-HSM") throw new Error("oct-HSM keys live in a Managed HSM");
    const version = randomBytes(16).toString("hex");
    const seconds = Math.floor(now / 1000);
    const material =
      kty === "oct-HSM"
        ? randomBytes(32).toString("base64")
        : generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    (vault.keys[name] ??= []).push({ version, kty, material, enabled: attributes.enabled ?? true, nbf: attributes.nbf, exp: attributes.exp, created: seconds, updated: seconds });
    this.save();
    return version;
  }

  /** The version asked for, or the current one; KeyNotFound otherwise. */
  keyVersion(vault: Vault, name: string, version?: string): KeyVersion {
    const versions = vault.keys[name];
    const found = version ? versions?.find((v) => v.version === version) : versions?.at(-1);
    if (!found) throw keyNotFound(name, version);
    return found;
  }

  updateKey(vault: Vault, name: string, version: string | undefined, change: { enabled?: boolean; nbf?: number | null; exp?: number | null }, now = Date.now()): void {
    const key = this.keyVersion(vault, name, version);
    if (change.enabled !== undefined) key.enabled = change.enabled;
    if (change.nbf !== undefined) key.nbf = change.nbf ?? undefined;
    if (change.exp !== undefined) key.exp = change.exp ?? undefined;
    key.updated = Math.floor(now / 1000);
    this.save();
  }

  assignRole(vault: Vault, assignment: RoleAssignment): void {
    const role = ROLES[assignment.role];
    if (!role || role.kind !== vault.kind) throw new Error(`No role "${assignment.role}" for a ${vault.kind}`);
    vault.roleAssignments.push(assignment);
    this.save();
  }

  removeRoleAssignments(vault: Vault, principal: string): void {
    vault.roleAssignments = vault.roleAssignments.filter((a) => a.principal !== principal);
    this.save();
  }

  setAccessPolicy(vault: Vault, principal: string, keyPermissions: KeyOperation[]): void {
    vault.accessPolicies = vault.accessPolicies.filter((p) => p.principal !== principal);
    if (keyPermissions.length > 0) vault.accessPolicies.push({ principal, keyPermissions });
    this.save();
  }
}

function vaultId(kind: VaultKind, name: string): string {
  return `${kind}/${name}`;
}

// --- the key operations ----------------------------------------------------------------------

const AES_KW_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");

/** The algorithms each key type wraps with (what Custody uses: RSA-OAEP-256 and A256KW). */
export function wrapAlgorithms(kty: KeyType): readonly string[] {
  return kty === "oct-HSM" ? ["A256KW"] : ["RSA-OAEP-256", "RSA-OAEP"];
}

export function wrap(key: KeyVersion, alg: string, plaintext: Buffer): Buffer {
  checkAlgorithm(key, alg);
  if (key.kty === "oct-HSM") {
    if (plaintext.length < 16 || plaintext.length % 8 !== 0) throw badParameter("A256KW wraps a key of at least 16 bytes in multiples of 8 bytes.");
    const cipher = createCipheriv("id-aes256-wrap", Buffer.from(key.material, "base64"), AES_KW_IV);
    return Buffer.concat([cipher.update(plaintext), cipher.final()]);
  }
  return publicEncrypt({ key: createPublicKey(createPrivateKey(key.material)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(alg) }, plaintext);
}

export function unwrap(key: KeyVersion, alg: string, wrapped: Buffer): Buffer {
  checkAlgorithm(key, alg);
  try {
    if (key.kty === "oct-HSM") {
      const decipher = createDecipheriv("id-aes256-wrap", Buffer.from(key.material, "base64"), AES_KW_IV);
      return Buffer.concat([decipher.update(wrapped), decipher.final()]);
    }
    return privateDecrypt({ key: key.material, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(alg) }, wrapped);
  } catch {
    throw badParameter("The parameter is incorrect: the wrapped key could not be unwrapped with this key.");
  }
}

function oaepHash(alg: string): string {
  return alg === "RSA-OAEP-256" ? "sha256" : "sha1";
}

function checkAlgorithm(key: KeyVersion, alg: string): void {
  if (!wrapAlgorithms(key.kty).includes(alg)) throw badParameter(`Algorithm ${alg} is not supported for a key of type ${key.kty}.`);
}

/** The public JSON Web Key Key Vault returns (never private parts, never an oct key's bytes). */
export function publicJwk(kid: string, key: KeyVersion): Record<string, unknown> {
  const keyOps = ["wrapKey", "unwrapKey"];
  if (key.kty === "oct-HSM") return { kid, kty: key.kty, key_ops: keyOps };
  const jwk = createPublicKey(createPrivateKey(key.material)).export({ format: "jwk" });
  return { kid, kty: key.kty, key_ops: ["encrypt", "decrypt", ...keyOps], n: jwk.n, e: jwk.e };
}
