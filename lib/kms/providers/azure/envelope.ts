import { createHash, timingSafeEqual } from "node:crypto";
import type { TenantBinding } from "@/lib/kms/provider";

// Key Vault's wrapKey takes no additional authenticated data, so the tenant binding that AWS
// gets from the encryption context is carried inside what is wrapped: Custody wraps an envelope
//
//   "CTKENV01" (8 bytes) ‖ SHA-256 of the canonical tenant context (32) ‖ the tenant key (32)
//
// 72 bytes: a multiple of 8 as AES key wrap (A256KW) requires, and under RSA-OAEP-256's 190-byte
// limit for a 2048-bit key. Both wraps are non-malleable (OAEP is IND-CCA2; AES-KW checks an
// integrity value on unwrap), so no one without the customer's key can make a wrapped envelope
// that names another tenant: a wrapped key copied to another tenant's row unwraps to an envelope
// naming the first tenant and is refused. No extra column or MAC key is needed.
//
// What Custody stores (the "ciphertext") records which key version wrapped it, because a
// versionless key URL follows rotation and the unwrap must use the version that wrapped:
//
//   "AZKV" ‖ 0x01 ‖ u16 length of the kid ‖ kid (UTF-8) ‖ the wrapped envelope

const ENVELOPE_MAGIC = Buffer.from("CTKENV01", "ascii");
const STORED_MAGIC = Buffer.from("AZKV\u0001", "latin1");
export const TENANT_KEY_BYTES = 32;

/** SHA-256 of the tenant's canonical binding, {"tenant_id":"<id>"}: the same pair AWS keys bind as encryption context. */
export function tenantDigest(tenant: TenantBinding): Buffer {
  return createHash("sha256").update(JSON.stringify({ tenant_id: tenant.tenantId })).digest();
}

export function sealEnvelope(tenantKey: Buffer, tenant: TenantBinding): Buffer {
  if (tenantKey.length !== TENANT_KEY_BYTES) throw new Error("A tenant key is 32 bytes");
  return Buffer.concat([ENVELOPE_MAGIC, tenantDigest(tenant), tenantKey]);
}

/** The tenant key inside, if the envelope is well formed and names this tenant; else undefined. */
export function openEnvelope(envelope: Buffer, tenant: TenantBinding): Buffer | undefined {
  if (envelope.length !== ENVELOPE_MAGIC.length + 32 + TENANT_KEY_BYTES) return undefined;
  if (!envelope.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) return undefined;
  const digest = envelope.subarray(ENVELOPE_MAGIC.length, ENVELOPE_MAGIC.length + 32);
  if (!timingSafeEqual(digest, tenantDigest(tenant))) return undefined;
  return Buffer.from(envelope.subarray(ENVELOPE_MAGIC.length + 32));
}

export function encodeStored(kid: string, wrapped: Uint8Array): Buffer {
  const kidBytes = Buffer.from(kid, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(kidBytes.length);
  return Buffer.concat([STORED_MAGIC, length, kidBytes, Buffer.from(wrapped)]);
}

export function decodeStored(stored: Uint8Array): { kid: string; wrapped: Buffer } | undefined {
  const bytes = Buffer.from(stored);
  if (bytes.length < STORED_MAGIC.length + 2 || !bytes.subarray(0, STORED_MAGIC.length).equals(STORED_MAGIC)) return undefined;
  const kidLength = bytes.readUInt16BE(STORED_MAGIC.length);
  const start = STORED_MAGIC.length + 2;
  if (bytes.length <= start + kidLength) return undefined;
  return { kid: bytes.subarray(start, start + kidLength).toString("utf8"), wrapped: bytes.subarray(start + kidLength) };
}
