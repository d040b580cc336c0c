import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { invalidArgument } from "./errors";

// The development Cloud KMS's ciphertext: opaque to callers, as Cloud KMS's is, but it names
// the key (its random tag) and version that made it, so Decrypt picks the version itself and
// recognises another key's ciphertext. AES-256-GCM binds the additional authenticated data.
//
//   tag (8) ‖ version (4, big-endian) ‖ iv (12) ‖ auth tag (16) ‖ encrypted plaintext

const HEADER = 8 + 4 + 12 + 16;

export type SealedHeader = { keyTag: Buffer; version: number };

export function seal(keyTag: Buffer, version: number, material: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", material, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const versionBytes = Buffer.alloc(4);
  versionBytes.writeUInt32BE(version);
  return Buffer.concat([keyTag, versionBytes, iv, cipher.getAuthTag(), body]);
}

/** The key tag and version a ciphertext names; INVALID_ARGUMENT when it is too short to be one. */
export function readHeader(ciphertext: Buffer): SealedHeader {
  if (ciphertext.length < HEADER) throw invalidArgument("Decryption failed: the ciphertext is invalid.");
  return { keyTag: ciphertext.subarray(0, 8), version: ciphertext.readUInt32BE(8) };
}

export function open(ciphertext: Buffer, material: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", material, ciphertext.subarray(12, 24));
  decipher.setAuthTag(ciphertext.subarray(24, 40));
  decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(ciphertext.subarray(HEADER)), decipher.final()]);
  } catch {
    throw invalidArgument("Decryption failed: the ciphertext is invalid.");
  }
}
