import { createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CustodyError } from "./errors";
import { ENVELOPE_VERSION, envelopeEdek, openRecord, sealRecord } from "./envelope";

const dek = randomBytes(32);
const edek = randomBytes(93).toString("base64");
const binding = { tenantId: randomUUID(), dataLabel: "invoices", objectId: "inv-1" };

function field(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Opens an envelope by following the layout documented in envelope.ts, independently of it. */
function openByTheBook(envelope: Buffer, key: Buffer, b: typeof binding): Buffer {
  expect(envelope.subarray(0, 3).toString("ascii")).toBe("CSR");
  expect(envelope[3]).toBe(1);
  const n = envelope.readUInt16BE(4);
  const nonce = envelope.subarray(6 + n, 18 + n);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(Buffer.concat([envelope.subarray(0, 18 + n), field(b.tenantId.toLowerCase()), field(b.dataLabel), field(b.objectId)]));
  decipher.setAuthTag(envelope.subarray(envelope.length - 16));
  return Buffer.concat([decipher.update(envelope.subarray(18 + n, envelope.length - 16)), decipher.final()]);
}

function expectInvalid(run: () => unknown) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CustodyError);
  expect((caught as CustodyError).code).toBe("invalid_envelope");
}

describe("record envelopes", () => {
  it("follow the documented byte layout", () => {
    const plaintext = Buffer.from("Invoice 1: 99 EUR");
    const envelope = sealRecord(dek, edek, binding, plaintext);
    expect(ENVELOPE_VERSION).toBe(1);
    expect(envelope.readUInt16BE(4)).toBe(93);
    expect(envelope.subarray(6, 6 + 93).toString("base64")).toBe(edek);
    expect(envelope).toHaveLength(6 + 93 + 12 + plaintext.length + 16);
    expect(openByTheBook(envelope, dek, binding)).toEqual(plaintext);
    expect(envelopeEdek(envelope)).toBe(edek);
    expect(envelopeEdek(envelope.toString("base64"))).toBe(edek);
  });

  it("open with the same key and binding, in bytes or base64, tenant id in any case", () => {
    const envelope = sealRecord(dek, edek, binding, "héllo");
    expect(openRecord(envelope, dek, binding).toString("utf8")).toBe("héllo");
    expect(openRecord(envelope.toString("base64"), dek, { ...binding, tenantId: binding.tenantId.toUpperCase() }).toString("utf8")).toBe("héllo");
    expect(openRecord(sealRecord(dek, edek, binding, new Uint8Array()), dek, binding)).toHaveLength(0);
  });

  it("do not open for another tenant, label, object or key", () => {
    const envelope = sealRecord(dek, edek, binding, "secret");
    expectInvalid(() => openRecord(envelope, dek, { ...binding, tenantId: randomUUID() }));
    expectInvalid(() => openRecord(envelope, dek, { ...binding, dataLabel: "notes" }));
    expectInvalid(() => openRecord(envelope, dek, { ...binding, objectId: "inv-2" }));
    // Length prefixes keep the fields apart: ("ab","c") is not ("a","bc").
    const split = sealRecord(dek, edek, { ...binding, dataLabel: "ab", objectId: "c" }, "x");
    expectInvalid(() => openRecord(split, dek, { ...binding, dataLabel: "a", objectId: "bc" }));
    expectInvalid(() => openRecord(envelope, randomBytes(32), binding));
  });

  it("detect a change to any byte, and truncation", () => {
    const envelope = sealRecord(dek, edek, binding, "pay 100 to Alice");
    for (let i = 0; i < envelope.length; i++) {
      const tampered = Buffer.from(envelope);
      tampered[i]! ^= 0x80;
      expectInvalid(() => openRecord(tampered, dek, binding));
    }
    for (const length of [0, 3, 6, 40, envelope.length - 1]) expectInvalid(() => openRecord(envelope.subarray(0, length), dek, binding));
  });

  it("name an unknown format version", () => {
    const envelope = sealRecord(dek, edek, binding, "x");
    envelope[3] = 2;
    expect(() => openRecord(envelope, dek, binding)).toThrow(/version 2/);
  });

  it("use a fresh nonce each time", () => {
    const one = sealRecord(dek, edek, binding, "same");
    const two = sealRecord(dek, edek, binding, "same");
    expect(one.subarray(6 + 93, 18 + 93).equals(two.subarray(6 + 93, 18 + 93))).toBe(false);
  });

  it("refuse an EDEK that would not survive storage, and a missing binding", () => {
    expect(() => sealRecord(dek, "QQ", binding, "x")).toThrow(CustodyError);
    expect(() => sealRecord(dek, edek, { ...binding, objectId: "" }, "x")).toThrow(TypeError);
    expect(() => sealRecord(randomBytes(16), edek, binding, "x")).toThrow(TypeError);
  });
});
