import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored, openEnvelope, sealEnvelope } from "./envelope";

describe("the tenant-bound envelope", () => {
  const key = randomBytes(32);
  const acme = { tenantId: "0b6c5f1e-1111-4111-8111-111111111111" };
  const globex = { tenantId: "0b6c5f1e-2222-4222-8222-222222222222" };

  it("is 72 bytes (a multiple of 8 for AES-KW, under RSA-OAEP-256's limit) and opens for its tenant only", () => {
    const envelope = sealEnvelope(key, acme);
    expect(envelope).toHaveLength(72);
    expect(openEnvelope(envelope, acme)).toEqual(key);
    expect(openEnvelope(envelope, globex)).toBeUndefined();
  });

  it("refuses anything else: truncated, another magic, a flipped digest bit", () => {
    const envelope = sealEnvelope(key, acme);
    expect(openEnvelope(envelope.subarray(0, 71), acme)).toBeUndefined();
    expect(openEnvelope(Buffer.concat([Buffer.from("CTKENV02"), envelope.subarray(8)]), acme)).toBeUndefined();
    const flipped = Buffer.from(envelope);
    flipped[10]! ^= 1;
    expect(openEnvelope(flipped, acme)).toBeUndefined();
  });

  it("stores the wrapping key's id beside the wrapped bytes, and reads back only its own format", () => {
    const kid = "https://contoso.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef";
    const wrapped = randomBytes(256);
    expect(decodeStored(encodeStored(kid, wrapped))).toEqual({ kid, wrapped });
    expect(decodeStored(wrapped)).toBeUndefined();
    expect(decodeStored(encodeStored(kid, wrapped).subarray(0, 20))).toBeUndefined();
  });
});
