import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

// Encrypted data keys (EDEKs): a data key (DEK) wrapped under a tenant key with AES-256-GCM.
// Pure code, shared by the key service and its tests.
//
// Layout of version 1 (93 bytes, base64 on the wire):
//   0      version (0x01)
//   1..16  tenant key id (UUID bytes): which tenant key unwraps it
//   17..32 salt (16 random bytes)
//   33..44 GCM nonce (12 random bytes)
//   45..76 the wrapped DEK (32 bytes)
//   77..92 GCM tag (16 bytes)
// The wrapping key is HKDF-Expand(tenant key, info || salt), so no tenant key ever encrypts two DEKs
// with one GCM key, however many it wraps (random nonces alone would cap a key at 2^32 uses).
// The additional authenticated data is the header (bytes 0..44), the tenant id and the data
// label, so an EDEK refuses to open for another tenant or another label, and any altered byte
// is detected.

export const EDEK_VERSION = 1;
export const DEK_BYTES = 32;
const HEADER_BYTES = 1 + 16 + 16 + 12;
export const EDEK_BYTES = HEADER_BYTES + DEK_BYTES + 16;
const HKDF_INFO = Buffer.from("custody/edek/v1");
const HKDF_BLOCK_1 = Buffer.from([1]);

export class InvalidEdekError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidEdekError";
  }
}

export type EdekBinding = { tenantId: string; dataLabel: string };

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error("not a UUID");
  return Buffer.from(hex, "hex");
}

export function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Tenant ids repeat on every call; their bytes are kept (a bounded map: ids come from callers).
const tenantIdBytes = new Map<string, Buffer>();

function tenantBytes(tenantId: string): Buffer {
  let bytes = tenantIdBytes.get(tenantId);
  if (!bytes) {
    bytes = uuidToBytes(tenantId);
    if (tenantIdBytes.size >= 10_000) tenantIdBytes.clear();
    tenantIdBytes.set(tenantId, bytes);
  }
  return bytes;
}

function aad(header: Buffer, binding: EdekBinding): Buffer {
  return Buffer.concat([header, tenantBytes(binding.tenantId), Buffer.from(binding.dataLabel, "utf8")]);
}

/**
 * The EDEK's own GCM key: HKDF-Expand-SHA256 (RFC 5869) with the tenant key as the
 * pseudorandom key and "custody/edek/v1" || salt as the info, one 32-byte block, i.e.
 * HMAC-SHA256(tenant key, info || salt || 0x01). The extract step is skipped as RFC 5869 §3.3
 * allows: the tenant key is already a uniformly random 256-bit key (KMS GenerateDataKey). One
 * HMAC per wrap or unwrap; the edek test checks the construction independently.
 */
export function wrappingKey(tenantKey: Buffer, salt: Buffer): Buffer {
  return createHmac("sha256", tenantKey).update(HKDF_INFO).update(salt).update(HKDF_BLOCK_1).digest();
}

/** Wraps `dek` under the tenant key `tenantKeyId` for one tenant and data label. */
export function sealDek(tenantKey: Buffer, tenantKeyId: string, binding: EdekBinding, dek: Buffer): Buffer {
  if (dek.length !== DEK_BYTES) throw new Error("a DEK is 32 bytes");
  const edek = Buffer.allocUnsafe(EDEK_BYTES);
  edek[0] = EDEK_VERSION;
  uuidToBytes(tenantKeyId).copy(edek, 1);
  randomBytes(28).copy(edek, 17);
  const header = edek.subarray(0, HEADER_BYTES);
  const key = wrappingKey(tenantKey, edek.subarray(17, 33));
  const cipher = createCipheriv("aes-256-gcm", key, edek.subarray(33, 45));
  key.fill(0);
  cipher.setAAD(aad(header, binding));
  const wrapped = cipher.update(dek);
  cipher.final();
  wrapped.copy(edek, HEADER_BYTES);
  cipher.getAuthTag().copy(edek, HEADER_BYTES + DEK_BYTES);
  return edek;
}

/** Reads which tenant key an EDEK names; throws InvalidEdekError if it is not a well-formed EDEK. */
export function edekTenantKeyId(edek: Buffer): string {
  if (edek.length !== EDEK_BYTES) throw new InvalidEdekError("That is not an EDEK issued by Custody (wrong length).");
  if (edek[0] !== EDEK_VERSION) throw new InvalidEdekError("That EDEK has a format version this Custody does not know.");
  return bytesToUuid(edek.subarray(1, 17));
}

/** Unwraps an EDEK; throws InvalidEdekError if it was altered or is bound to another tenant or label. */
export function openEdek(tenantKey: Buffer, binding: EdekBinding, edek: Buffer): Buffer {
  edekTenantKeyId(edek);
  const key = wrappingKey(tenantKey, edek.subarray(17, 33));
  const decipher = createDecipheriv("aes-256-gcm", key, edek.subarray(33, 45));
  key.fill(0);
  decipher.setAAD(aad(edek.subarray(0, HEADER_BYTES), binding));
  decipher.setAuthTag(edek.subarray(HEADER_BYTES + DEK_BYTES));
  const dek = decipher.update(edek.subarray(HEADER_BYTES, HEADER_BYTES + DEK_BYTES));
  try {
    decipher.final();
  } catch {
    dek.fill(0);
    throw new InvalidEdekError("The EDEK does not open for this tenant and data label: it was altered, or issued for another tenant or label.");
  }
  return dek;
}

/** Decodes an EDEK from base64 (already checked by the request schema). */
export function decodeEdek(base64: string): Buffer {
  return Buffer.from(base64, "base64");
}
