import { describe, expect, it } from "vitest";
import { parseVaultServers } from "./settings";

const POLICY = { allowHttpLoopback: false };

describe("parseVaultServers", () => {
  it("reads AppRole and token entries, canonicalising addresses", () => {
    const servers = parseVaultServers(
      JSON.stringify([
        { address: "https://Vault.Acme.example:8200/", namespace: "acme/", approle: { roleId: "r", secretId: "s" } },
        { address: "https://vault.globex.example", token: "hvs.x" },
      ]),
      POLICY,
    );
    expect(servers).toEqual([
      { address: "https://vault.acme.example:8200", namespace: "acme", auth: { method: "approle", roleId: "r", secretId: "s", mount: "approle" }, caPem: undefined },
      { address: "https://vault.globex.example", namespace: "", auth: { method: "token", token: "hvs.x" }, caPem: undefined },
    ]);
  });

  it("refuses bad entries by position and field, never echoing a credential", () => {
    const problem = (value: unknown) => {
      try {
        parseVaultServers(JSON.stringify(value), POLICY);
      } catch (error) {
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(problem([{ address: "http://vault.example.com", token: "hvs.secret-value" }])).toMatch(/^entry 0\.address: .*https/);
    expect(problem([{ address: "https://v.example", token: "hvs.secret-value", approle: { roleId: "r", secretId: "s" } }])).toMatch(/exactly one of token and approle/);
    expect(problem([{ address: "https://v.example", token: "t" }, { address: "https://V.example/", token: "u" }])).toMatch(/twice/);
    expect(problem([{ address: "https://v.example", token: "t", caPem: "not pem" }])).toMatch(/PEM/);
    expect(problem({})).toMatch(/list/);
    for (const message of [problem([{ address: "http://vault.example.com", token: "hvs.secret-value" }]), problem([{ address: "https://v.example", token: "hvs.secret-value", extra: 1 }])]) {
      expect(message).not.toContain("secret-value");
    }
  });
});
