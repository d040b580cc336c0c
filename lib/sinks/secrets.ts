import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { readKeyFile } from "../utils/key-file";

// Sink secrets (a webhook's HMAC secret, a Splunk HEC token) at rest: AES-256-GCM under the
// deployment's key, SINK_SECRET_KEY (32 random bytes, base64) or SINK_SECRET_KEY_FILE (a file
// holding that); the demo generates one into its data folder. The sink's id is the additional
// authenticated data, so a ciphertext copied onto another sink's row does not decrypt there.
//
// Layout: version (1) | key id (1) | nonce (12) | ciphertext | tag (16). The key id is the first
// byte of a hash of the key, so after a rotation (new SINK_SECRET_KEY, the old one listed in
// SINK_SECRET_PREVIOUS_KEYS) each stored secret names the key that sealed it; a secret is
// sealed again under the current key whenever it is replaced. One byte can collide, so every
// key with that id is tried: GCM's tag tells the right one.

export type SinkSecretKey = { id: number; key: Buffer };
export type SinkSecretKeys = { current: SinkSecretKey; previous: SinkSecretKey[] };

export const DEMO_SINK_SECRET_KEY_FILE = "sink-secret-key";
const VERSION = 1;
const NONCE = 12;
const TAG = 16;

/** A secret that cannot be opened: a wrong or missing key, or a damaged row. Safe to show. */
export class SinkSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SinkSecretError";
  }
}

function keyIdOf(key: Buffer): number {
  return createHash("sha256").update("custody sink secret key\0").update(key).digest()[0]!;
}

/** 32 bytes, base64; throws an Error whose message is safe to show (never the key). */
export function parseSinkSecretKey(text: string): SinkSecretKey {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : Buffer.alloc(0);
  if (key.length !== 32) throw new Error("must be 32 random bytes, base64-encoded (create one with: openssl rand -base64 32)");
  return { id: keyIdOf(key), key };
}

/** Reads the key a file holds; the message names the file but never its contents. */
export function readSinkSecretKeyFile(file: string): SinkSecretKey {
  return readKeyFile(file, parseSinkSecretKey);
}

/** Previous keys, comma-separated, for secrets sealed before a rotation. */
export function parsePreviousSinkSecretKeys(text: string): SinkSecretKey[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      try {
        return parseSinkSecretKey(part);
      } catch (error) {
        throw new Error(`key ${i + 1} ${(error as Error).message}`);
      }
    });
}

/** The configured keys, or null when neither SINK_SECRET_KEY nor SINK_SECRET_KEY_FILE is set. */
export function sinkSecretKeysFromEnv(env: Record<string, string | undefined> = process.env): SinkSecretKeys | null {
  const inline = env.SINK_SECRET_KEY?.trim();
  const file = env.SINK_SECRET_KEY_FILE?.trim();
  const current = inline ? parseSinkSecretKey(inline) : file ? readSinkSecretKeyFile(file) : null;
  if (!current) return null;
  const previous = env.SINK_SECRET_PREVIOUS_KEYS?.trim() ? parsePreviousSinkSecretKeys(env.SINK_SECRET_PREVIOUS_KEYS) : [];
  return { current, previous };
}

/**
 * The demo's key: generated into the data folder on first start (mode 0600) and reused after,
 * so sinks created in one run still deliver in the next. Returns the file's path.
 */
export function ensureDemoSinkSecretKey(dataDir: string): string {
  const file = path.join(dataDir, DEMO_SINK_SECRET_KEY_FILE);
  if (fs.existsSync(file)) return file;
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return file;
}

const globalForKeys = globalThis as unknown as { custodySinkSecretKeys?: SinkSecretKeys | null };

/** The deployment's keys, read once per process (both module copies share them). */
export function deploymentSinkSecretKeys(): SinkSecretKeys {
  if (globalForKeys.custodySinkSecretKeys === undefined) globalForKeys.custodySinkSecretKeys = sinkSecretKeysFromEnv();
  const keys = globalForKeys.custodySinkSecretKeys;
  if (!keys) throw new SinkSecretError("No sink secret key is configured (SINK_SECRET_KEY or SINK_SECRET_KEY_FILE).");
  return keys;
}

/** For tests and scripts that change the environment after a first read. */
export function forgetDeploymentSinkSecretKeys(): void {
  globalForKeys.custodySinkSecretKeys = undefined;
}

function aadOf(sinkId: string): Buffer {
  return Buffer.from(`custody sink secret v1\0${sinkId.toLowerCase()}`, "utf8");
}

export function encryptSinkSecret(sinkId: string, secret: string, keys: SinkSecretKeys = deploymentSinkSecretKeys()): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", keys.current.key, nonce);
  cipher.setAAD(aadOf(sinkId));
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION, keys.current.id]), nonce, body, cipher.getAuthTag()]);
}

export function decryptSinkSecret(sinkId: string, sealed: Uint8Array, keys: SinkSecretKeys = deploymentSinkSecretKeys()): string {
  const blob = Buffer.from(sealed);
  if (blob.length < 2 + NONCE + TAG || blob[0] !== VERSION) throw new SinkSecretError("The sink's stored secret is damaged; enter it again.");
  const candidates = [keys.current, ...keys.previous].filter((k) => k.id === blob[1]);
  const nonce = blob.subarray(2, 2 + NONCE);
  const body = blob.subarray(2 + NONCE, blob.length - TAG);
  const tag = blob.subarray(blob.length - TAG);
  for (const candidate of candidates) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", candidate.key, nonce);
      decipher.setAAD(aadOf(sinkId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      // Not this key (or a damaged row): try the next.
    }
  }
  throw new SinkSecretError(
    candidates.length === 0
      ? "The sink's secret was sealed with a key this deployment does not have (list it in SINK_SECRET_PREVIOUS_KEYS), or enter the secret again."
      : "The sink's stored secret does not open with this deployment's key; enter it again.",
  );
}

/** A fresh webhook signing secret: 32 random bytes, base64url, prefixed so it is recognisable in a vault. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}
