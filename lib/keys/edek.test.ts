import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EDEK_BYTES, edekTenantKeyId, InvalidEdekError, openEdek, sealDek, wrappingKey } from "./edek";

const tenantKey = randomBytes(32);
const tenantKeyId = randomUUID();
const binding = { tenantId: randomUUID(), dataLabel: "invoices" };

describe("EDEKs", () => {
  it("round-trips a DEK and names its tenant key", () => {
    const dek = randomBytes(32);
    const edek = sealDek(tenantKey, tenantKeyId, binding, dek);
    expect(edek).toHaveLength(EDEK_BYTES);
    expect(edekTenantKeyId(edek)).toBe(tenantKeyId);
    expect(openEdek(tenantKey, binding, edek).equals(dek)).toBe(true);
  });

  it("derives each wrapping key with HKDF-Expand-SHA256 (RFC 5869) from the tenant key and the EDEK's salt", () => {
    const salt = randomBytes(16);
    const info = Buffer.concat([Buffer.from("custody/edek/v1"), salt]);
    // RFC 5869 section 2.3, first block: T(1) = HMAC-Hash(PRK, "" | info | 0x01).
    const expected = createHmac("sha256", tenantKey).update(Buffer.concat([info, Buffer.from([1])])).digest();
    expect(wrappingKey(tenantKey, salt).equals(expected)).toBe(true);
    expect(wrappingKey(tenantKey, randomBytes(16)).equals(expected)).toBe(false);
  });

  it("never repeats: two wraps of one DEK differ", () => {
    const dek = randomBytes(32);
    expect(sealDek(tenantKey, tenantKeyId, binding, dek).equals(sealDek(tenantKey, tenantKeyId, binding, dek))).toBe(false);
  });

  it("refuses another tenant, another label and another tenant key", () => {
    const edek = sealDek(tenantKey, tenantKeyId, binding, randomBytes(32));
    expect(() => openEdek(tenantKey, { ...binding, tenantId: randomUUID() }, edek)).toThrow(InvalidEdekError);
    expect(() => openEdek(tenantKey, { ...binding, dataLabel: "invoices2" }, edek)).toThrow(InvalidEdekError);
    expect(() => openEdek(tenantKey, { ...binding, dataLabel: "Invoices" }, edek)).toThrow(InvalidEdekError);
    expect(() => openEdek(randomBytes(32), binding, edek)).toThrow(InvalidEdekError);
  });

  it("detects any altered byte, including the tenant key id in the header", () => {
    const edek = sealDek(tenantKey, tenantKeyId, binding, randomBytes(32));
    for (let i = 1; i < EDEK_BYTES; i++) {
      const bad = Buffer.from(edek);
      bad[i]! ^= 0x01;
      expect(() => openEdek(tenantKey, binding, bad), `byte ${i}`).toThrow(InvalidEdekError);
    }
  });

  it("refuses wrong lengths and unknown versions with a clear message", () => {
    const edek = sealDek(tenantKey, tenantKeyId, binding, randomBytes(32));
    expect(() => edekTenantKeyId(edek.subarray(0, 60))).toThrow(/wrong length/);
    const v2 = Buffer.from(edek);
    v2[0] = 2;
    expect(() => edekTenantKeyId(v2)).toThrow(/format version/);
  });
});
