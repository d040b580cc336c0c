import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { readKeyFile } from "../utils/key-file";

// The deployment's checkpoint signing key (Ed25519). Configured as AUDIT_SIGNING_KEY (PKCS#8
// PEM, newlines may be written as \n) or AUDIT_SIGNING_KEY_FILE (a path to the PEM); the demo
// generates one into its data folder. Its id is the first 16 hex digits of sha256 over the
// public key's SPKI (DER), so anyone holding the public key can compute it.

export type SigningKey = { keyId: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string };

export const DEMO_SIGNING_KEY_FILE = "audit-signing-key.pem";

/** A PKCS#8 PEM Ed25519 private key; throws an Error with a message safe to show (never the key). */
export function parseSigningKeyPem(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem.replace(/\\n/g, "\n").trim() + "\n", format: "pem" });
  } catch {
    throw new Error("is not a PKCS#8 PEM private key (create one with: openssl genpkey -algorithm ed25519)");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`must be an Ed25519 key, not ${privateKey.asymmetricKeyType ?? "this kind"}`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/** Reads the key a file holds; the message names the file but never its contents. */
export function readSigningKeyFile(file: string): SigningKey {
  return readKeyFile(file, parseSigningKeyPem);
}

/** The configured key, or null when neither variable is set. */
export function signingKeyFromEnv(env: Record<string, string | undefined> = process.env): SigningKey | null {
  const inline = env.AUDIT_SIGNING_KEY?.trim();
  if (inline) return parseSigningKeyPem(inline);
  const file = env.AUDIT_SIGNING_KEY_FILE?.trim();
  if (file) return readSigningKeyFile(file);
  return null;
}

/**
 * The demo's key: generated into the data folder on first start (mode 0600) and reused after,
 * so checkpoints signed in one run still verify in the next. Returns the file's path.
 */
export function ensureDemoSigningKey(dataDir: string): string {
  const file = path.join(dataDir, DEMO_SIGNING_KEY_FILE);
  if (fs.existsSync(file)) return file;
  const { privateKey } = generateKeyPairSync("ed25519");
  try {
    fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return file;
}

const globalForKey = globalThis as unknown as { custodySigningKey?: SigningKey | null };

/** The deployment's key, read once per process (both module copies share it). */
export function deploymentSigningKey(): SigningKey | null {
  if (globalForKey.custodySigningKey === undefined) globalForKey.custodySigningKey = signingKeyFromEnv();
  return globalForKey.custodySigningKey;
}

/** For tests and scripts that change the environment after a first read. */
export function forgetDeploymentSigningKey(): void {
  globalForKey.custodySigningKey = undefined;
}
