import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CustodyError } from "./errors";

// Record envelopes: a payload encrypted locally with AES-256-GCM under a data key (DEK), with
// the DEK's EDEK inside so the envelope is all the application stores.
//
// Layout of version 1 (all integers big-endian):
//   offset        size  field
//   0             3     magic, ASCII "CSR" (0x43 0x53 0x52)
//   3             1     format version (0x01)
//   4             2     n = length of the EDEK in bytes (1..65535)
//   6             n     EDEK (the key service's base64 EDEK, decoded)
//   6+n           12    GCM nonce (random)
//   18+n          c     ciphertext (c = plaintext length)
//   18+n+c        16    GCM tag
// The additional authenticated data is bytes 0 .. 18+n (magic, version, EDEK, nonce) followed by
// the binding: for the tenant id (lower-cased), the data label and the object id, in that order,
// a 2-byte length and the UTF-8 bytes. So every byte of the envelope is authenticated, and an
// envelope opens only for the tenant, label and object it was sealed for. The EDEK is itself
// bound to the tenant and label by the key service, so a moved envelope fails either at unwrap
// (`invalid_edek`) or here (`invalid_envelope`).

export const ENVELOPE_VERSION = 1;
const MAGIC = Buffer.from("CSR", "ascii");
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DEK_BYTES = 32;
const PREFIX_BYTES = MAGIC.length + 1 + 2;
const MIN_ENVELOPE_BYTES = PREFIX_BYTES + 1 + NONCE_BYTES + TAG_BYTES;

/** What an envelope is bound to: it opens only with the same three values. */
export type RecordBinding = { tenantId: string; dataLabel: string; objectId: string };

function invalid(message: string): CustodyError {
  return new CustodyError("invalid_envelope", message);
}

function lengthPrefixed(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > 0xffff) throw new TypeError(`${what} is too long to bind into a record envelope.`);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function checkBinding(binding: RecordBinding): void {
  for (const key of ["tenantId", "dataLabel", "objectId"] as const) {
    if (typeof binding[key] !== "string" || binding[key] === "") {
      throw new TypeError(`${key} is required to seal or open a record envelope (it is bound into the envelope).`);
    }
  }
}

function additionalData(header: Uint8Array, binding: RecordBinding): Buffer {
  return Buffer.concat([
    header,
    lengthPrefixed(binding.tenantId.toLowerCase(), "tenantId"),
    lengthPrefixed(binding.dataLabel, "dataLabel"),
    lengthPrefixed(binding.objectId, "objectId"),
  ]);
}

function toBytes(envelope: Uint8Array | string): Buffer {
  if (typeof envelope === "string") return Buffer.from(envelope, "base64");
  return Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
}

/** Encrypts `plaintext` under `dek` and packs it with `edek` (base64, as wrap returned it). */
export function sealRecord(dek: Uint8Array, edek: string, binding: RecordBinding, plaintext: Uint8Array | string): Buffer {
  checkBinding(binding);
  if (dek.byteLength !== DEK_BYTES) throw new TypeError("A data key is 32 bytes.");
  const edekBytes = Buffer.from(edek, "base64");
  // Stored decoded; it must come back as exactly the string the key service issued.
  if (edekBytes.length === 0 || edekBytes.length > 0xffff || edekBytes.toString("base64") !== edek) {
    throw new CustodyError("bad_response", "The key service returned an EDEK that is not canonical base64.");
  }
  const data = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
  const headerLength = PREFIX_BYTES + edekBytes.length + NONCE_BYTES;
  const envelope = Buffer.allocUnsafe(headerLength + data.byteLength + TAG_BYTES);
  MAGIC.copy(envelope, 0);
  envelope[MAGIC.length] = ENVELOPE_VERSION;
  envelope.writeUInt16BE(edekBytes.length, MAGIC.length + 1);
  edekBytes.copy(envelope, PREFIX_BYTES);
  randomBytes(NONCE_BYTES).copy(envelope, PREFIX_BYTES + edekBytes.length);

  const cipher = createCipheriv("aes-256-gcm", dek, envelope.subarray(PREFIX_BYTES + edekBytes.length, headerLength));
  cipher.setAAD(additionalData(envelope.subarray(0, headerLength), binding));
  const head = cipher.update(data);
  const tail = cipher.final();
  head.copy(envelope, headerLength);
  tail.copy(envelope, headerLength + head.length);
  cipher.getAuthTag().copy(envelope, headerLength + data.byteLength);
  return envelope;
}

type ParsedEnvelope = { edek: string; header: Buffer; nonce: Buffer; ciphertext: Buffer; tag: Buffer };

function parseEnvelope(envelope: Uint8Array | string): ParsedEnvelope {
  const bytes = toBytes(envelope);
  if (bytes.length < MIN_ENVELOPE_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalid("That is not a Custody record envelope.");
  }
  if (bytes[MAGIC.length] !== ENVELOPE_VERSION) {
    throw invalid(`The record envelope has format version ${bytes[MAGIC.length]}, which this SDK does not know.`);
  }
  const edekLength = bytes.readUInt16BE(MAGIC.length + 1);
  const headerLength = PREFIX_BYTES + edekLength + NONCE_BYTES;
  if (edekLength === 0 || bytes.length < headerLength + TAG_BYTES) throw invalid("The record envelope is truncated.");
  return {
    edek: bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + edekLength).toString("base64"),
    header: bytes.subarray(0, headerLength),
    nonce: bytes.subarray(PREFIX_BYTES + edekLength, headerLength),
    ciphertext: bytes.subarray(headerLength, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/** The EDEK inside an envelope (base64), e.g. to unwrap many envelopes with one batchUnwrap. */
export function envelopeEdek(envelope: Uint8Array | string): string {
  return parseEnvelope(envelope).edek;
}

/** Decrypts an envelope with its (unwrapped) data key; throws CustodyError `invalid_envelope` if it does not open. */
export function openRecord(envelope: Uint8Array | string, dek: Uint8Array, binding: RecordBinding): Buffer {
  checkBinding(binding);
  const parsed = parseEnvelope(envelope);
  if (dek.byteLength !== DEK_BYTES) throw new TypeError("A data key is 32 bytes.");
  const decipher = createDecipheriv("aes-256-gcm", dek, parsed.nonce);
  decipher.setAAD(additionalData(parsed.header, binding));
  decipher.setAuthTag(parsed.tag);
  const plaintext = decipher.update(parsed.ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw invalid("The record envelope does not open: it was altered, or it belongs to another tenant, data label or object.");
  }
  return plaintext;
}
