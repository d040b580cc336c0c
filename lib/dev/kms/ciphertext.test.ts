import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openBlob, parseBlob, sealBlob } from "./ciphertext";
import { canonicalEncryptionContext } from "./crypto";

const keyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const material = randomBytes(32);
const plaintext = Buffer.from("a 256-bit data key would go here");

function seal(context?: Record<string, string>) {
  return sealBlob({ keyArn, material, plaintext, context });
}

function open(blob: Buffer, context?: Record<string, string>, key = material) {
  const parsed = parseBlob(blob);
  return parsed && openBlob(parsed, key, context);
}

describe("ciphertext blobs", () => {
  it("round-trip, name their key and carry no key material", () => {
    const blob = seal({ tenant_id: "t-1" });
    expect(parseBlob(blob)?.keyArn).toBe(keyArn);
    expect(blob.subarray(0, 5)).toEqual(Buffer.from([0x43, 0x44, 0x4b, 0x4d, 0x01])); // "CDKM", version 1
    expect(open(blob, { tenant_id: "t-1" })).toEqual(plaintext);
    expect(blob.includes(material)).toBe(false);
    expect(blob.includes(plaintext)).toBe(false);
    expect(seal().equals(seal())).toBe(false); // fresh salt and IV every time
  });

  it("bind the encryption context: order does not matter, anything else does", () => {
    const blob = seal({ a: "1", b: "2" });
    expect(open(blob, { b: "2", a: "1" })).toEqual(plaintext);
    const wrong: Array<Record<string, string> | undefined> = [undefined, { a: "1" }, { a: "1", b: "2", c: "3" }, { a: "1", b: "3" }, { A: "1", b: "2" }];
    for (const context of wrong) {
      expect(open(blob, context)).toBeUndefined();
    }
    // No context and an empty context are the same thing, as in KMS.
    expect(open(seal({}), undefined)).toEqual(plaintext);
  });

  it("fail to open when any byte changes, or under another key", () => {
    const blob = seal();
    for (let i = 0; i < blob.length; i++) {
      const tampered = Buffer.from(blob);
      tampered[i]! ^= 0x01;
      expect(open(tampered)).toBeUndefined();
    }
    expect(open(blob, undefined, randomBytes(32))).toBeUndefined();
    expect(open(blob.subarray(0, blob.length - 1))).toBeUndefined();
  });

  it("are not confused with foreign data", () => {
    expect(parseBlob(Buffer.alloc(0))).toBeUndefined();
    expect(parseBlob(randomBytes(200))).toBeUndefined();
    expect(parseBlob(Buffer.from("CDKM\u0002"))).toBeUndefined();
  });

  it("canonicalise contexts unambiguously", () => {
    // Without length prefixes, {"ab": "c"} and {"a": "bc"} could encode alike.
    expect(canonicalEncryptionContext({ ab: "c" })).not.toEqual(canonicalEncryptionContext({ a: "bc" }));
    expect(canonicalEncryptionContext({})).toEqual(canonicalEncryptionContext(undefined));
  });
});
