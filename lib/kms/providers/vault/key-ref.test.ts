import { describe, expect, it } from "vitest";
import { describeVaultKeyRef, parseVaultKeyRef, VaultKeyRefError } from "./key-ref";

const PRODUCTION = { allowHttpLoopback: false };
const LOOPBACK_HTTP = { allowHttpLoopback: true };

function refusal(input: Parameters<typeof parseVaultKeyRef>[0], policy = PRODUCTION): VaultKeyRefError {
  try {
    parseVaultKeyRef(input, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(VaultKeyRefError);
    return error as VaultKeyRefError;
  }
  throw new Error("accepted");
}

describe("parseVaultKeyRef", () => {
  it("canonicalises address, mount, key and namespace", () => {
    const ref = parseVaultKeyRef({ address: " https://Vault.Example.com:8200/ ", mount: "/customers/transit/", key: "custody-acme", namespace: "acme/" }, PRODUCTION);
    expect(ref).toEqual({ address: "https://vault.example.com:8200", mount: "customers/transit", key: "custody-acme", namespace: "acme" });
    expect(describeVaultKeyRef(ref)).toBe("https://vault.example.com:8200 (namespace acme) customers/transit/keys/custody-acme");
    expect(parseVaultKeyRef({ address: "https://vault.example.com", key: "k" }, PRODUCTION)).toMatchObject({ mount: "transit", namespace: "" });
  });

  it("refuses http:// in production, with the reason", () => {
    const error = refusal({ address: "http://vault.example.com:8200", key: "k" });
    expect(error.field).toBe("address");
    expect(error.message).toMatch(/must use https/);
    // Loopback is no exception unless the vendor allowed it.
    expect(refusal({ address: "http://127.0.0.1:8200", key: "k" }).field).toBe("address");
  });

  it("allows http:// only to loopback when the vendor allowed it", () => {
    expect(parseVaultKeyRef({ address: "http://127.0.0.1:8200", key: "k" }, LOOPBACK_HTTP).address).toBe("http://127.0.0.1:8200");
    expect(parseVaultKeyRef({ address: "http://[::1]:8200", key: "k" }, LOOPBACK_HTTP).address).toBe("http://[::1]:8200");
    expect(parseVaultKeyRef({ address: "http://localhost:8200", key: "k" }, LOOPBACK_HTTP).address).toBe("http://localhost:8200");
    expect(refusal({ address: "http://10.0.0.5:8200", key: "k" }, LOOPBACK_HTTP).message).toMatch(/https/);
    expect(refusal({ address: "http://127.0.0.1.example.com:8200", key: "k" }, LOOPBACK_HTTP).message).toMatch(/https/);
  });

  it("refuses malformed addresses, mounts, keys and namespaces by field", () => {
    expect(refusal({ address: "vault.example.com", key: "k" }).field).toBe("address");
    expect(refusal({ address: "ftp://vault.example.com", key: "k" }).field).toBe("address");
    expect(refusal({ address: "https://user:pw@vault.example.com", key: "k" }).message).toMatch(/user name or password/);
    expect(refusal({ address: "https://vault.example.com/v1/transit", key: "k" }).message).toMatch(/without a path/);
    expect(refusal({ address: "https://vault.example.com?x=1", key: "k" }).field).toBe("address");
    expect(refusal({ address: "https://vault.example.com", mount: "sys", key: "k" }).field).toBe("mount");
    expect(refusal({ address: "https://vault.example.com", mount: "auth/approle", key: "k" }).field).toBe("mount");
    expect(refusal({ address: "https://vault.example.com", mount: "a//b", key: "k" }).field).toBe("mount");
    expect(refusal({ address: "https://vault.example.com", mount: "../sys", key: "k" }).field).toBe("mount");
    expect(refusal({ address: "https://vault.example.com", key: "../../sys/policies" }).field).toBe("key");
    expect(refusal({ address: "https://vault.example.com", key: "a/b" }).field).toBe("key");
    expect(refusal({ address: "https://vault.example.com", key: "" }).field).toBe("key");
    expect(refusal({ address: "https://vault.example.com", key: "k".repeat(129) }).field).toBe("key");
    expect(refusal({ address: "https://vault.example.com", key: "k", namespace: "a b" }).field).toBe("namespace");
  });
});
