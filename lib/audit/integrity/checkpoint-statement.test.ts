import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkpointDocument, checkpointStatement, signStatement, statementSignatureValid } from "./checkpoint-statement";
import { keyIdOf } from "./signing-key";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const fields = {
  chain: "6f1c2a0e-0000-4000-8000-000000000001",
  seq: 1234n,
  headHash: "ab".repeat(32),
  signedAt: new Date("2026-11-29T12:00:00.000Z"),
  keyId: keyIdOf(publicKey),
};

describe("checkpoint statements", () => {
  it("are the documented six lines", () => {
    expect(checkpointStatement(fields)).toBe(
      `custody-audit-checkpoint/v1\nchain: ${fields.chain}\nseq: 1234\nhead: ${"ab".repeat(32)}\nsigned-at: 2026-11-29T12:00:00.000Z\nkey: ${fields.keyId}\n`,
    );
    expect(fields.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("verify only for the fields and key they were signed with", () => {
    const signature = signStatement(checkpointStatement(fields), privateKey);
    expect(statementSignatureValid(checkpointStatement(fields), signature, publicKey)).toBe(true);
    expect(statementSignatureValid(checkpointStatement({ ...fields, seq: 1235n }), signature, publicKey)).toBe(false);
    expect(statementSignatureValid(checkpointStatement({ ...fields, headHash: "cd".repeat(32) }), signature, publicKey)).toBe(false);
    expect(statementSignatureValid(checkpointStatement(fields), signature, generateKeyPairSync("ed25519").publicKey)).toBe(false);
    expect(statementSignatureValid(checkpointStatement(fields), signature.subarray(0, 63), publicKey)).toBe(false);
  });

  it("download as the statement and a base64 signature", () => {
    const signature = signStatement(checkpointStatement(fields), privateKey);
    const doc = checkpointDocument(fields, signature);
    expect(doc.statement).toBe(checkpointStatement(fields));
    expect(Buffer.from(doc.signature, "base64").equals(signature)).toBe(true);
    expect(doc.seq).toBe("1234");
  });
});
