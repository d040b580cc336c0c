import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  decryptSinkSecret,
  encryptSinkSecret,
  ensureDemoSinkSecretKey,
  parseSinkSecretKey,
  type SinkSecretKeys,
  sinkSecretKeysFromEnv,
} from "./secrets";

const keyText = (fill: number) => Buffer.alloc(32, fill).toString("base64");
const keys = (current: number, ...previous: number[]): SinkSecretKeys => ({
  current: parseSinkSecretKey(keyText(current)),
  previous: previous.map((p) => parseSinkSecretKey(keyText(p))),
});
const SINK = "7b0c7c3e-2f55-4a55-9a51-1f7f0d6b1a11";
const OTHER_SINK = "0d6c1a9e-3b1c-4f7e-8a0a-5b2a2c9d4e77";

describe("sink secrets at rest", () => {
  it("round-trips, and the ciphertext does not contain the secret", () => {
    const sealed = encryptSinkSecret(SINK, "whsec_top-secret-value", keys(1));
    expect(sealed.includes(Buffer.from("top-secret"))).toBe(false);
    expect(decryptSinkSecret(SINK, sealed, keys(1))).toBe("whsec_top-secret-value");
    // Fresh nonce each time.
    expect(encryptSinkSecret(SINK, "whsec_top-secret-value", keys(1)).equals(sealed)).toBe(false);
  });

  it("refuses a wrong key, another sink's row and a flipped bit, without saying the secret", () => {
    const sealed = encryptSinkSecret(SINK, "hec-token-123", keys(1));
    expect(() => decryptSinkSecret(SINK, sealed, keys(2))).toThrow(/key this deployment does not have|does not open/);
    expect(() => decryptSinkSecret(OTHER_SINK, sealed, keys(1))).toThrow(/does not open/);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 20]! ^= 1;
    expect(() => decryptSinkSecret(SINK, flipped, keys(1))).toThrow(/does not open/);
    expect(() => decryptSinkSecret(SINK, sealed.subarray(0, 10), keys(1))).toThrow(/damaged/);
  });

  it("opens secrets sealed before a rotation with the previous key", () => {
    const sealed = encryptSinkSecret(SINK, "old", keys(1));
    expect(decryptSinkSecret(SINK, sealed, keys(2, 1))).toBe("old");
    expect(() => decryptSinkSecret(SINK, sealed, keys(2))).toThrow(/SINK_SECRET_PREVIOUS_KEYS/);
  });

  it("takes only 32 base64 bytes as a key", () => {
    expect(() => parseSinkSecretKey(Buffer.alloc(31).toString("base64"))).toThrow(/32 random bytes/);
    expect(() => parseSinkSecretKey("not base64!")).toThrow(/32 random bytes/);
    expect(sinkSecretKeysFromEnv({})).toBeNull();
    expect(sinkSecretKeysFromEnv({ SINK_SECRET_KEY: keyText(3), SINK_SECRET_PREVIOUS_KEYS: `${keyText(4)},${keyText(5)}` })?.previous).toHaveLength(2);
  });

  it("generates the demo key once, mode 0600, and reuses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sink-key-"));
    try {
      const file = ensureDemoSinkSecretKey(dir);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const first = fs.readFileSync(file, "utf8");
      expect(parseSinkSecretKey(first).key).toHaveLength(32);
      expect(ensureDemoSinkSecretKey(dir)).toBe(file);
      expect(fs.readFileSync(file, "utf8")).toBe(first);
      expect(sinkSecretKeysFromEnv({ SINK_SECRET_KEY_FILE: file })?.current.key.toString("base64")).toBe(first.trim());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
