import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

// The few cryptographic primitives the server uses, in one place: AES-256-GCM with a random
// 96-bit IV and a 128-bit tag, HKDF-SHA256 for deriving purpose-specific keys, and the
// canonical byte form of an encryption context that both ciphertext blobs and grant
// constraints rely on.

export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export type Sealed = { iv: Buffer; ciphertext: Buffer; tag: Buffer };

export function aesGcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; returns undefined (never a partial plaintext) when anything is off. */
export function aesGcmOpen(key: Buffer, sealed: Sealed, aad: Buffer): Buffer | undefined {
  if (sealed.iv.length !== GCM_IV_BYTES || sealed.tag.length !== GCM_TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** HKDF-SHA256; `info` names the purpose so that one secret never keys two different uses. */
export function deriveKey(secret: Buffer, salt: Buffer, info: string, length = AES_KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, salt, Buffer.from(info, "utf8"), length));
}

export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * The canonical bytes of an encryption context: the pairs sorted by the UTF-8 bytes of their
 * keys, each key and value length-prefixed (u32 big-endian), after a u32 pair count. Order in
 * the request does not matter (as in KMS); keys and values are compared exactly, case included.
 * No context and an empty context are the same thing, as in KMS.
 */
export function canonicalEncryptionContext(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {})
    .map(([key, value]) => [Buffer.from(key, "utf8"), Buffer.from(value, "utf8")] as const)
    .sort(([a], [b]) => Buffer.compare(a, b));
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [key, value] of pairs) parts.push(u32(key.length), key, u32(value.length), value);
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}
