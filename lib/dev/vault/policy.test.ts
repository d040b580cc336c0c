import { describe, expect, it } from "vitest";
import { capabilitiesOn, parsePolicy, PolicyParseError } from "./policy";

// The development Vault's ACL: the HCL subset and Vault's priority matching, tried with the
// cases a policy must not let through.

const rules = (text: string) => parsePolicy(text);

describe("parsePolicy", () => {
  it("reads path blocks with capability lists and comments of all three kinds", () => {
    expect(
      rules(`
        # Custody
        path "transit/encrypt/acme" { capabilities = ["update"] } // inline
        /* block */
        path "transit/keys/*" {
          capabilities = ["read", "list",]
        }`),
    ).toEqual([
      { path: "transit/encrypt/acme", capabilities: ["update"] },
      { path: "transit/keys/*", capabilities: ["read", "list"] },
    ]);
  });

  it("refuses what it would otherwise silently ignore or misread", () => {
    expect(() => rules('path "a" { capabilities = ["update"] allowed_parameters = {} }')).toThrow(PolicyParseError);
    expect(() => rules('path "a" { capabilities = ["write"] }')).toThrow(/invalid capability/);
    expect(() => rules('path "a/*/b" { capabilities = ["read"] }')).toThrow(/only at the end/);
    expect(() => rules('path "a" { }')).toThrow(/no capabilities/);
    expect(() => rules('path "a" { capabilities = ["read"]')).toThrow(/end of policy/);
  });
});

describe("capabilitiesOn", () => {
  it("an exact path grants only that path", () => {
    const policy = rules('path "transit/encrypt/acme" { capabilities = ["update"] }');
    expect([...capabilitiesOn(policy, "transit/encrypt/acme")]).toEqual(["update"]);
    expect(capabilitiesOn(policy, "transit/encrypt/acme2").size).toBe(0);
    expect(capabilitiesOn(policy, "transit/encrypt/acme/x").size).toBe(0);
    expect(capabilitiesOn(policy, "transit/decrypt/acme").size).toBe(0);
  });

  it("the most specific matching path wins, so a narrower rule can take away what a glob gives", () => {
    const policy = rules(`
      path "transit/*" { capabilities = ["update", "read"] }
      path "transit/decrypt/+" { capabilities = ["read"] }
      path "transit/decrypt/acme" { capabilities = ["deny"] }`);
    expect(capabilitiesOn(policy, "transit/encrypt/x").has("update")).toBe(true);
    expect([...capabilitiesOn(policy, "transit/decrypt/globex")]).toEqual(["read"]);
    expect([...capabilitiesOn(policy, "transit/decrypt/acme")]).toEqual(["deny"]);
  });

  it("capabilities on the same path merge across policies, and deny beats them", () => {
    const merged = [...rules('path "p" { capabilities = ["read"] }'), ...rules('path "p" { capabilities = ["update"] }')];
    expect([...capabilitiesOn(merged, "p")].sort()).toEqual(["read", "update"]);
    const denied = [...merged, ...rules('path "p" { capabilities = ["deny"] }')];
    expect([...capabilitiesOn(denied, "p")]).toEqual(["deny"]);
  });

  it("a + matches exactly one non-empty segment", () => {
    const policy = rules('path "transit/+/acme" { capabilities = ["update"] }');
    expect(capabilitiesOn(policy, "transit/encrypt/acme").size).toBe(1);
    expect(capabilitiesOn(policy, "transit//acme").size).toBe(0);
    expect(capabilitiesOn(policy, "transit/a/b/acme").size).toBe(0);
  });
});
