import { randomBytes } from "node:crypto";
import {
  aesGcmOpen,
  aesGcmSeal,
  canonicalEncryptionContext,
  deriveKey,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  type EncryptionContext,
} from "./crypto";

// The ciphertext blob format (CiphertextBlob in Encrypt, GenerateDataKey, ReEncrypt):
//
//   offset  bytes  field
//   0       4      magic "CDKM" (Custody development KMS)
//   4       1      format version, 1
//   5       2      length n of the key ARN, u16 big-endian
//   7       n      key ARN, UTF-8 (which key, region and account can open the blob)
//   7+n     16     HKDF salt, random per blob
//   23+n    12     AES-GCM IV, random per blob
//   35+n    m      AES-256-GCM ciphertext of the plaintext
//   35+n+m  16     AES-GCM tag
//
// The key that encrypts is HKDF-SHA256(KMS key material, salt, "custody-dev-kms/v1/ciphertext"):
// a fresh key per blob, so the number of blobs under one KMS key never approaches GCM's
// random-IV limits (KMS derives per-request keys the same way). The additional authenticated
// data is the header (magic, version, key ARN) followed by the canonical encryption context,
// so changing the header, the body or the context makes decryption fail. Like AWS's blobs, a
// blob reveals which key made it and nothing else; it carries no key material.

const MAGIC = Buffer.from("CDKM", "ascii");
const VERSION = 1;
const SALT_BYTES = 16;
const KEY_INFO = "custody-dev-kms/v1/ciphertext";
const FIXED_HEADER_BYTES = MAGIC.length + 1 + 2;
const MAX_ARN_BYTES = 2048;

export type ParsedBlob = {
  keyArn: string;
  header: Buffer;
  salt: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
};

export function sealBlob(input: {
  keyArn: string;
  material: Buffer;
  plaintext: Buffer;
  context: EncryptionContext | undefined;
}): Buffer {
  const arn = Buffer.from(input.keyArn, "utf8");
  if (arn.length > MAX_ARN_BYTES) throw new Error("key ARN too long for a ciphertext blob");
  const header = Buffer.alloc(FIXED_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, MAGIC.length);
  header.writeUInt16BE(arn.length, MAGIC.length + 1);
  const fullHeader = Buffer.concat([header, arn]);
  const salt = randomBytes(SALT_BYTES);
  const key = deriveKey(input.material, salt, KEY_INFO);
  const sealed = aesGcmSeal(key, input.plaintext, aad(fullHeader, input.context));
  return Buffer.concat([fullHeader, salt, sealed.iv, sealed.ciphertext, sealed.tag]);
}

/** Splits a blob into its fields; undefined when it is not a blob of this format. */
export function parseBlob(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < FIXED_HEADER_BYTES) return undefined;
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (blob.readUInt8(MAGIC.length) !== VERSION) return undefined;
  const arnLength = blob.readUInt16BE(MAGIC.length + 1);
  const headerEnd = FIXED_HEADER_BYTES + arnLength;
  if (arnLength === 0 || blob.length < headerEnd + SALT_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES) return undefined;
  const arnBytes = blob.subarray(FIXED_HEADER_BYTES, headerEnd);
  const keyArn = arnBytes.toString("utf8");
  // Reject bytes that do not survive a UTF-8 round trip rather than guess at them.
  if (!Buffer.from(keyArn, "utf8").equals(arnBytes)) return undefined;
  const saltEnd = headerEnd + SALT_BYTES;
  const ivEnd = saltEnd + GCM_IV_BYTES;
  return {
    keyArn,
    header: blob.subarray(0, headerEnd),
    salt: blob.subarray(headerEnd, saltEnd),
    iv: blob.subarray(saltEnd, ivEnd),
    ciphertext: blob.subarray(ivEnd, blob.length - GCM_TAG_BYTES),
    tag: blob.subarray(blob.length - GCM_TAG_BYTES),
  };
}

/** Decrypts a parsed blob with its key's material; undefined when it does not authenticate. */
export function openBlob(blob: ParsedBlob, material: Buffer, context: EncryptionContext | undefined): Buffer | undefined {
  const key = deriveKey(material, blob.salt, KEY_INFO);
  return aesGcmOpen(key, { iv: blob.iv, ciphertext: blob.ciphertext, tag: blob.tag }, aad(blob.header, context));
}

function aad(header: Buffer, context: EncryptionContext | undefined): Buffer {
  return Buffer.concat([header, canonicalEncryptionContext(context)]);
}
