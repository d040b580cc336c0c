import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureDemoSigningKey, readSigningKeyFile, signingKeyFromEnv } from "./signing-key";

describe("the checkpoint signing key", () => {
  it("is generated once for the demo, readable only by its owner, and reused", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-key-"));
    try {
      const file = ensureDemoSigningKey(dir);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const first = readSigningKeyFile(file);
      expect(ensureDemoSigningKey(dir)).toBe(file);
      expect(readSigningKeyFile(file).keyId).toBe(first.keyId);
      expect(first.keyId).toMatch(/^[0-9a-f]{16}$/);
      expect(first.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      // The same key given inline, with its newlines escaped as many secret stores need.
      const pem = fs.readFileSync(file, "utf8");
      expect(signingKeyFromEnv({ AUDIT_SIGNING_KEY: pem.replace(/\n/g, "\\n") })?.keyId).toBe(first.keyId);
      expect(signingKeyFromEnv({ AUDIT_SIGNING_KEY_FILE: file })?.keyId).toBe(first.keyId);
      expect(signingKeyFromEnv({})).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
