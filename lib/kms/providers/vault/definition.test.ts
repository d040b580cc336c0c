import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/config";
import { vaultKmsProvider } from "./definition";

// The Vault registration form's validation: what the console stores or refuses, by field.

const SERVERS = JSON.stringify([
  { address: "https://vault.acme.example:8200", namespace: "acme", approle: { roleId: "role", secretId: "secret" } },
  { address: "http://127.0.0.1:8200", token: "hvs.local" },
]);
const config = (extra: Record<string, string> = {}) => parseEnv({ VAULT_SERVERS: SERVERS, VAULT_ALLOW_HTTP_LOOPBACK: "true", ...extra }, "library");

function issues(input: Record<string, string>, cfg = config()) {
  const result = vaultKmsProvider.registration.schema(cfg).safeParse(input);
  return result.success ? { stored: result.data } : { errors: Object.fromEntries(result.error.issues.map((i) => [String(i.path[0]), i.message])) };
}

describe("the Vault registration schema", () => {
  it("stores the canonical reference and its parts for a listed server", () => {
    expect(issues({ address: "https://VAULT.acme.example:8200/", namespace: "acme", mount: "", key: "custody-acme" })).toEqual({
      stored: {
        ref: "https://vault.acme.example:8200/v1/acme/transit/keys/custody-acme",
        details: { address: "https://vault.acme.example:8200", namespace: "acme", mount: "transit", key: "custody-acme" },
      },
    });
  });

  it("refuses a Vault (or namespace) Custody holds no credentials for, on the address field", () => {
    expect(issues({ address: "https://vault.evil.example", key: "k" }).errors?.address).toMatch(/holds no credentials/);
    expect(issues({ address: "https://vault.acme.example:8200", namespace: "globex", key: "k" }).errors?.address).toMatch(/holds no credentials/);
  });

  it("refuses http:// in production even for a listed loopback server", () => {
    const production = config({ VAULT_ALLOW_HTTP_LOOPBACK: "false", VAULT_SERVERS: JSON.stringify([{ address: "https://vault.acme.example:8200", token: "t" }]) });
    expect(issues({ address: "http://127.0.0.1:8200", key: "k" }, production).errors?.address).toMatch(/must use https/);
    expect(issues({ address: "http://127.0.0.1:8200", key: "k" }).stored?.ref).toBe("http://127.0.0.1:8200/v1/transit/keys/k");
  });

  it("names the field of malformed input", () => {
    expect(issues({ address: "", key: "k" }).errors?.address).toMatch(/Vault address/);
    expect(issues({ address: "https://vault.acme.example:8200", namespace: "acme", mount: "sys", key: "k" }).errors?.mount).toMatch(/not a transit mount/);
    expect(issues({ address: "https://vault.acme.example:8200", namespace: "acme", key: "../x" }).errors?.key).toMatch(/key name/);
    expect(issues({ address: "https://vault.acme.example:8200", namespace: "acme", key: "k".repeat(301) }).errors?.key).toMatch(/at most 300/);
  });

  it("is offered only when servers are configured", () => {
    expect(vaultKmsProvider.configured(config())).toBe(true);
    expect(vaultKmsProvider.configured(parseEnv({}, "library"))).toBe(false);
  });
});
