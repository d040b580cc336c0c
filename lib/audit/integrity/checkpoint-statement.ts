import { createPublicKey, type KeyObject, sign, verify } from "node:crypto";

// The bytes a checkpoint signs: six lines of UTF-8 text, each ending in "\n", in this order:
//
//   custody-audit-checkpoint/v1
//   chain: <tenant id, or "vendor">
//   seq: <decimal sequence number of the head event>
//   head: <64 lower-case hex digits: that event's hash>
//   signed-at: <UTC time, ISO 8601 with milliseconds, e.g. 2026-11-29T12:00:00.000Z>
//   key: <key id: first 16 hex digits of sha256 over the public key's SPKI DER>
//
// Plain text rather than JSON so that the statement is readable as it stands and there is no
// canonicalisation to get wrong: verifying is Ed25519 over exactly these bytes (openssl
// pkeyutl -verify -rawin). Pure code, shared by the signer, the verifier and the downloads.

export const CHECKPOINT_FORMAT = "custody-audit-checkpoint/v1";

export type CheckpointFields = { chain: string; seq: bigint; headHash: string; signedAt: Date; keyId: string };

export function checkpointStatement(fields: CheckpointFields): string {
  return [
    CHECKPOINT_FORMAT,
    `chain: ${fields.chain}`,
    `seq: ${fields.seq.toString()}`,
    `head: ${fields.headHash}`,
    `signed-at: ${fields.signedAt.toISOString()}`,
    `key: ${fields.keyId}`,
    "",
  ].join("\n");
}

export function signStatement(statement: string, privateKey: KeyObject): Buffer {
  return sign(null, Buffer.from(statement, "utf8"), privateKey);
}

export function statementSignatureValid(statement: string, signature: Uint8Array, publicKey: KeyObject): boolean {
  return signature.length === 64 && verify(null, Buffer.from(statement, "utf8"), publicKey, signature);
}

/** What the integrity page offers for download: the statement, its signature, and the fields for reading. */
export type CheckpointDocument = {
  format: typeof CHECKPOINT_FORMAT;
  chain: string;
  seq: string;
  headHash: string;
  signedAt: string;
  keyId: string;
  /** The exact bytes signed. */
  statement: string;
  /** Ed25519 signature over `statement`, base64. */
  signature: string;
};

export function checkpointDocument(fields: CheckpointFields, signature: Uint8Array): CheckpointDocument {
  return {
    format: CHECKPOINT_FORMAT,
    chain: fields.chain,
    seq: fields.seq.toString(),
    headHash: fields.headHash,
    signedAt: fields.signedAt.toISOString(),
    keyId: fields.keyId,
    statement: checkpointStatement(fields),
    signature: Buffer.from(signature).toString("base64"),
  };
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: "pem" });
}
