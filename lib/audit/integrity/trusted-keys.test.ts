import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configProblems } from "@/lib/config";
import { KEY_MATERIAL_CHECKS } from "@/lib/server/load-config";
import { keyIdOf } from "./signing-key";
import { parsePublicKeysPem, readPublicKeysFile, trustedPublicKeysFromEnv } from "./trusted-keys";

const publicPem = () => generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();

const problemsOf = (env: Record<string, string | undefined>) => configProblems(env, "custody", KEY_MATERIAL_CHECKS);

describe("the trusted previous signing keys", () => {
  it("are read from one or more PEM public keys, inline (newlines escaped) or from a file, with their key ids", () => {
    const [a, b] = [publicPem(), publicPem()];
    const ids = [a, b].map((pem) => keyIdOf(parsePublicKeysPem(pem)[0]!.publicKey));
    expect(parsePublicKeysPem(a + b).map((k) => k.keyId)).toEqual(ids);
    expect(trustedPublicKeysFromEnv({ AUDIT_TRUSTED_PUBLIC_KEYS: (a + "\n" + b).replace(/\n/g, "\\n") }).map((k) => k.keyId)).toEqual(ids);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-trusted-"));
    try {
      const file = path.join(dir, "previous.pem");
      fs.writeFileSync(file, a + b);
      expect(trustedPublicKeysFromEnv({ AUDIT_TRUSTED_PUBLIC_KEYS_FILE: file }).map((k) => k.keyId)).toEqual(ids);
      expect(() => readPublicKeysFile(path.join(dir, "missing.pem"))).toThrow(`cannot read ${path.join(dir, "missing.pem")}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(trustedPublicKeysFromEnv({})).toEqual([]);
  });

  it("refuse anything but Ed25519 public keys, naming the problem without echoing the text", () => {
    const privatePem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(() => parsePublicKeysPem("")).toThrow(/holds no PEM public key/);
    expect(() => parsePublicKeysPem(publicPem() + privatePem)).toThrow("holds a private key (key 2): list public keys only");
    expect(() => parsePublicKeysPem(rsa)).toThrow("must hold Ed25519 keys, not rsa");
    expect(() => parsePublicKeysPem("-----BEGIN PUBLIC KEY-----\nc2VjcmV0LWlzaA==\n-----END PUBLIC KEY-----")).toThrow("holds a PEM block that is not a public key");
    expect(() => parsePublicKeysPem(publicPem() + "stray text")).toThrow("holds text that is not part of a PEM block");
  });

  it("are validated with the rest of the configuration", () => {
    expect(problemsOf({ AUDIT_TRUSTED_PUBLIC_KEYS: publicPem() })).toEqual([]);
    expect(problemsOf({ AUDIT_TRUSTED_PUBLIC_KEYS: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWlzaA==\n-----END PRIVATE KEY-----" })).toEqual([
      "AUDIT_TRUSTED_PUBLIC_KEYS holds a private key: list public keys only (openssl pkey -pubout)",
    ]);
    expect(problemsOf({ AUDIT_TRUSTED_PUBLIC_KEYS_FILE: "/nonexistent/previous.pem" })).toEqual(["AUDIT_TRUSTED_PUBLIC_KEYS_FILE cannot read /nonexistent/previous.pem"]);
    expect(problemsOf({ AUDIT_TRUSTED_PUBLIC_KEYS: publicPem(), AUDIT_TRUSTED_PUBLIC_KEYS_FILE: "/nonexistent/previous.pem" })).toContain(
      "AUDIT_TRUSTED_PUBLIC_KEYS and AUDIT_TRUSTED_PUBLIC_KEYS_FILE are alternatives: set one of them",
    );
  });
});
