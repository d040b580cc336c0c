import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { badRequest, notFound } from "./errors";
import type { TransitKey, TransitMount } from "./model";

// The transit secrets engine's keys and cryptography, as Vault does it for aes256-gcm96 keys:
// each version has its own 256-bit key; a derived key (derived=true) is HKDF-SHA256 of the
// version's key with the request's `context` as info, so every context has its own key; the
// ciphertext is "vault:v<version>:" + base64(nonce ‖ ciphertext ‖ tag) with `associated_data`
// as GCM's additional data. Decryption honours min_decryption_version.

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** OpenBao's message for a ciphertext below min_decryption_version. */
export const TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)";
export const KEY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** OpenBao's message for a soft-deleted key. */
export const SOFT_DELETED = "refusing to use soft-deleted key";

export function createKey(name: string, options: { derived: boolean; now: number }): TransitKey {
  return {
    name,
    type: "aes256-gcm96",
    derived: options.derived,
    deletionAllowed: false,
    latestVersion: 1,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    versions: { "1": { material: randomBytes(32).toString("base64"), createdAt: options.now } },
  };
}

export function rotateKey(key: TransitKey, now: number): void {
  key.latestVersion += 1;
  key.versions[String(key.latestVersion)] = { material: randomBytes(32).toString("base64"), createdAt: now };
}

/** The `data` of GET transit/keys/:name. */
export function describeKey(key: TransitKey): Record<string, unknown> {
  return {
    name: key.name,
    type: key.type,
    derived: key.derived,
    ...(key.derived ? { kdf: "hkdf_sha256", convergent_encryption: false } : {}),
    deletion_allowed: key.deletionAllowed,
    exportable: false,
    allow_plaintext_backup: false,
    imported_key: false,
    auto_rotate_period: 0,
    keys: Object.fromEntries(Object.entries(key.versions).map(([version, v]) => [version, Math.floor(v.createdAt / 1000)])),
    latest_version: key.latestVersion,
    min_available_version: 0,
    min_decryption_version: key.minDecryptionVersion,
    min_encryption_version: key.minEncryptionVersion,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    supports_signing: false,
    soft_deleted: key.softDeleted === true,
  };
}

export function findKey(mount: TransitMount, name: string): TransitKey {
  const key = mount.keys[name];
  if (!key) throw badRequest("encryption key not found");
  return key;
}

export function readKey(mount: TransitMount, name: string): TransitKey {
  const key = mount.keys[name];
  if (!key) throw notFound();
  return key;
}

/** Applies POST transit/keys/:name/config. */
export function configureKey(key: TransitKey, body: Record<string, unknown>): void {
  const version = (field: string): number | undefined => {
    const raw = body[field];
    if (raw === undefined) return undefined;
    const value = typeof raw === "string" ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw badRequest(`${field} must be a whole number`);
    if (value > key.latestVersion) throw badRequest(`cannot set ${field} above the latest version`);
    return value;
  };
  const minDecryption = version("min_decryption_version");
  const minEncryption = version("min_encryption_version");
  if (minDecryption !== undefined && minDecryption > 0) key.minDecryptionVersion = minDecryption;
  if (minEncryption !== undefined) key.minEncryptionVersion = minEncryption;
  if (body.deletion_allowed !== undefined) key.deletionAllowed = body.deletion_allowed === true || body.deletion_allowed === "true";
}

function base64Field(body: Record<string, unknown>, field: string): Buffer | undefined {
  const value = body[field];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw badRequest(`failed to base64-decode ${field}`);
  }
  return Buffer.from(value, "base64");
}

function versionKey(key: TransitKey, version: number, context: Buffer | undefined): Buffer {
  if (key.softDeleted) throw badRequest(SOFT_DELETED);
  const material = Buffer.from(key.versions[String(version)]!.material, "base64");
  if (!key.derived) return material;
  if (!context || context.length === 0) {
    throw badRequest(
      "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
    );
  }
  return Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), context, 32));
}

/** POST transit/encrypt/:name → { ciphertext, key_version }. */
export function encrypt(key: TransitKey, body: Record<string, unknown>): { ciphertext: string; key_version: number } {
  if (typeof body.plaintext !== "string") throw badRequest("missing plaintext to encrypt");
  const plaintext = base64Field(body, "plaintext") ?? Buffer.alloc(0);
  const context = base64Field(body, "context");
  const aad = base64Field(body, "associated_data");
  const requested = body.key_version === undefined ? 0 : Number(body.key_version);
  if (!Number.isInteger(requested) || requested < 0) throw badRequest("requested version for encryption is negative");
  if (requested > key.latestVersion) throw badRequest("requested version for encryption is higher than the latest key version");
  const version = requested === 0 ? key.latestVersion : requested;
  if (version < key.minEncryptionVersion) throw badRequest("requested version for encryption is less than the minimum encryption key version");
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", versionKey(key, version, context), nonce, { authTagLength: TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext: `vault:v${version}:${sealed.toString("base64")}`, key_version: version };
}

/** POST transit/decrypt/:name → { plaintext }. */
export function decrypt(key: TransitKey, body: Record<string, unknown>): { plaintext: string } {
  if (typeof body.ciphertext !== "string" || body.ciphertext === "") throw badRequest("missing ciphertext to decrypt");
  const parts = body.ciphertext.split(":");
  if (parts[0] !== "vault") throw badRequest("invalid ciphertext: no prefix");
  if (parts.length !== 3) throw badRequest("invalid ciphertext: wrong number of fields");
  const version = /^v[1-9][0-9]{0,8}$/.test(parts[1]!) ? Number(parts[1]!.slice(1)) : NaN;
  if (!Number.isInteger(version)) throw badRequest("invalid ciphertext: version number could not be decoded");
  if (version > key.latestVersion) throw badRequest("invalid ciphertext: version is too new");
  if (version < key.minDecryptionVersion) throw badRequest(TOO_OLD);
  const sealed = base64Field({ ciphertext: parts[2] }, "ciphertext");
  if (!sealed) throw badRequest("invalid ciphertext: could not decode base64");
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw badRequest("invalid ciphertext length");
  const context = base64Field(body, "context");
  const aad = base64Field(body, "associated_data");
  const decipher = createDecipheriv("aes-256-gcm", versionKey(key, version, context), sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return { plaintext: Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString("base64") };
  } catch {
    throw badRequest("cipher: message authentication failed");
  }
}
