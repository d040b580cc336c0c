import { open, readHeader, seal } from "./ciphertext";
import { invalidArgument, wrongState } from "./errors";
import type { Caller } from "./iam";
import { versionName } from "./model";
import type { GcpKeyStore } from "./store";

// Encrypt and Decrypt on a crypto key (symmetric ENCRYPT_DECRYPT), as Cloud KMS: Encrypt uses
// the primary version, which must be ENABLED; Decrypt finds the version in the ciphertext,
// which must be ENABLED too; the additional authenticated data must match exactly.

/** Cloud KMS's limit for plaintext and for additional authenticated data. */
const MAX_BYTES = 64 * 1024;

export function bytesField(body: Record<string, unknown>, field: string, required: boolean): Buffer {
  const value = body[field];
  if (value === undefined || value === null || value === "") {
    if (required) throw invalidArgument(`${field} is required.`);
    return Buffer.alloc(0);
  }
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw invalidArgument(`Invalid value at '${field}': not base64.`);
  const bytes = Buffer.from(value, "base64");
  if (bytes.length > MAX_BYTES) throw invalidArgument(`The ${field} must be at most ${MAX_BYTES} bytes.`);
  return bytes;
}

export function encrypt(store: GcpKeyStore, caller: Caller, keyName: string, body: Record<string, unknown>) {
  const plaintext = bytesField(body, "plaintext", true);
  const aad = bytesField(body, "additionalAuthenticatedData", false);
  const key = store.key(caller, keyName, "cloudkms.cryptoKeyVersions.useToEncrypt");
  const primary = key.primary === null ? undefined : key.versions.get(key.primary);
  if (!primary) throw wrongState(keyName, "NO_PRIMARY");
  if (primary.state !== "ENABLED" || !primary.material) throw wrongState(versionName(key, primary.id), primary.state);
  return {
    name: versionName(key, primary.id),
    ciphertext: seal(key.tag, primary.id, primary.material, plaintext, aad).toString("base64"),
    protectionLevel: "SOFTWARE",
  };
}

export function decrypt(store: GcpKeyStore, caller: Caller, keyName: string, body: Record<string, unknown>) {
  const ciphertext = bytesField(body, "ciphertext", true);
  const aad = bytesField(body, "additionalAuthenticatedData", false);
  const key = store.key(caller, keyName, "cloudkms.cryptoKeyVersions.useToDecrypt");
  const header = readHeader(ciphertext);
  if (!header.keyTag.equals(key.tag)) throw invalidArgument("Decryption failed: verify that 'name' refers to the correct CryptoKey.");
  const version = key.versions.get(header.version);
  if (!version) throw invalidArgument("Decryption failed: the ciphertext is invalid.");
  if (version.state !== "ENABLED" || !version.material) throw wrongState(versionName(key, version.id), version.state);
  return {
    plaintext: open(ciphertext, version.material, aad).toString("base64"),
    usedPrimary: version.id === key.primary,
    protectionLevel: "SOFTWARE",
  };
}
