import { createPublicKey, type KeyObject } from "node:crypto";
import { keyIdOf, type SigningKey } from "./signing-key";
import { readKeyFile } from "../utils/key-file";

// Signing-key rotation. Checkpoints keep the id of the key that signed them, and the
// deployment's current key (AUDIT_SIGNING_KEY) can only vouch for its own. The public keys of
// the deployment's previous signing keys are listed in AUDIT_TRUSTED_PUBLIC_KEYS (one or more
// SPKI PEM blocks, "-----BEGIN PUBLIC KEY-----", one after the other; newlines may be written
// as \n) or AUDIT_TRUSTED_PUBLIC_KEYS_FILE (a path to such a file), so that checkpoints they
// signed still verify. Only public keys: a retired private key should be destroyed. List a key
// retired because it leaked only if you accept that whoever holds it can sign checkpoints.

export type TrustedKey = Pick<SigningKey, "keyId" | "publicKey">;

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/** Every key the text holds; throws an Error with a message safe to show. */
export function parsePublicKeysPem(text: string): TrustedKey[] {
  const pem = text.replace(/\\n/g, "\n");
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    throw new Error("holds no PEM public key (export one with: openssl pkey -in old-key.pem -pubout)");
  }
  // Text between or around the blocks is refused rather than ignored: a key pasted with a
  // broken header would otherwise be dropped without a word.
  if (pem.replace(PEM_BLOCK, "").trim() !== "") throw new Error("holds text that is not part of a PEM block");
  return blocks.map((block, i) => {
    const which = blocks.length > 1 ? ` (key ${i + 1})` : "";
    if (block[1] !== "PUBLIC KEY") throw new Error(`holds a ${block[1]!.toLowerCase()}${which}: list public keys only (openssl pkey -pubout)`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: block[0] + "\n", format: "pem" });
    } catch {
      throw new Error(`holds a PEM block that is not a public key${which}`);
    }
    if (publicKey.asymmetricKeyType !== "ed25519") throw new Error(`must hold Ed25519 keys, not ${publicKey.asymmetricKeyType ?? "this kind"}${which}`);
    return { keyId: keyIdOf(publicKey), publicKey };
  });
}

/** Reads the keys a file holds; the message names the file but never its contents. */
export function readPublicKeysFile(file: string): TrustedKey[] {
  return readKeyFile(file, parsePublicKeysPem);
}

/** The configured previous keys; none when neither variable is set. */
export function trustedPublicKeysFromEnv(env: Record<string, string | undefined> = process.env): TrustedKey[] {
  const inline = env.AUDIT_TRUSTED_PUBLIC_KEYS?.trim();
  if (inline) return parsePublicKeysPem(inline);
  const file = env.AUDIT_TRUSTED_PUBLIC_KEYS_FILE?.trim();
  if (file) return readPublicKeysFile(file);
  return [];
}

const globalForKeys = globalThis as unknown as { custodyTrustedKeys?: TrustedKey[] };

/** The deployment's previous keys, read once per process. */
export function deploymentTrustedPublicKeys(): TrustedKey[] {
  globalForKeys.custodyTrustedKeys ??= trustedPublicKeysFromEnv();
  return globalForKeys.custodyTrustedKeys;
}

/** For tests and scripts that change the environment after a first read. */
export function forgetDeploymentTrustedPublicKeys(): void {
  globalForKeys.custodyTrustedKeys = undefined;
}
