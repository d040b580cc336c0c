import { describe, expect, it } from "vitest";
import { AzureKeyRefError, parseAzureKeyUrl, sameKey, type AzureDomains } from "./key-ref";

const AZURE: AzureDomains = { keyVault: "vault.azure.net", managedHsm: "managedhsm.azure.net", vaults: [] };
const VERSION = "0123456789abcdef0123456789abcdef";

function refusal(input: string, domains = AZURE): string {
  try {
    parseAzureKeyUrl(input, domains);
  } catch (error) {
    if (error instanceof AzureKeyRefError) return error.message;
    throw error;
  }
  return "accepted";
}

describe("parseAzureKeyUrl", () => {
  it("reads a Key Vault key with and without a version, and a Managed HSM key", () => {
    expect(parseAzureKeyUrl(" https://Contoso-Keys.vault.azure.net/keys/custody-cmk/ ", AZURE)).toEqual({
      kind: "vault",
      vaultUrl: "https://contoso-keys.vault.azure.net",
      vaultName: "contoso-keys",
      keyName: "custody-cmk",
      version: undefined,
      keyUrl: "https://contoso-keys.vault.azure.net/keys/custody-cmk",
    });
    expect(parseAzureKeyUrl(`https://contoso.vault.azure.net/keys/k/${VERSION.toUpperCase()}`, AZURE).version).toBe(VERSION);
    expect(parseAzureKeyUrl("https://contoso.managedhsm.azure.net/keys/aes", AZURE)).toMatchObject({ kind: "managedhsm", vaultName: "contoso" });
  });

  it.each([
    ["", /Enter the key's URL/],
    ["contoso.vault.azure.net/keys/k", /not a URL/],
    ["http://contoso.vault.azure.net/keys/k", /starts with https/],
    ["https://user:pw@contoso.vault.azure.net/keys/k", /no user name/],
    ["https://contoso.vault.azure.net/keys/k#x", /fragment/],
    ["https://contoso.vault.azure.net.evil.com/keys/k", /must be in an Azure Key Vault/],
    ["https://vault.azure.net/keys/k", /must be in an Azure Key Vault/],
    ["https://contoso.vault.azure.net:8443/keys/k", /must be in an Azure Key Vault/],
    ["https://ab.vault.azure.net/keys/k", /not a Key Vault name/],
    ["https://a--b.vault.azure.net/keys/k", /not a Key Vault name/],
    ["https://1abc.vault.azure.net/keys/k", /not a Key Vault name/],
    ["https://contoso.vault.azure.net/secrets/k", /path must be/],
    ["https://contoso.vault.azure.net/keys", /path must be/],
    ["https://contoso.vault.azure.net/keys/k/v/extra", /path must be/],
    ["https://contoso.vault.azure.net/keys/k_1", /1-127 letters/],
    ["https://contoso.vault.azure.net/keys/k/123", /32 hexadecimal/],
  ])("refuses %j", (input, message) => {
    expect(refusal(input)).toMatch(message);
  });

  it("refuses a vault outside the configured ones, naming both", () => {
    const domains = { ...AZURE, vaults: ["https://contoso.vault.azure.net"] };
    expect(refusal("https://fabrikam.vault.azure.net/keys/k", domains)).toMatch(/fabrikam\.vault\.azure\.net.*not one of.*contoso\.vault\.azure\.net/);
    expect(refusal("https://contoso.vault.azure.net/keys/k", domains)).toBe("accepted");
  });

  it("takes sovereign-cloud and development domains (with a port) from configuration", () => {
    expect(refusal("https://contoso.vault.usgovcloudapi.net/keys/k", { ...AZURE, keyVault: "vault.usgovcloudapi.net" })).toBe("accepted");
    expect(refusal("https://contoso.vault.localhost:4443/keys/k", { ...AZURE, keyVault: "vault.localhost:4443" })).toBe("accepted");
    expect(refusal("https://contoso.vault.localhost:4444/keys/k", { ...AZURE, keyVault: "vault.localhost:4443" })).toMatch(/must be in/);
  });
});

describe("sameKey", () => {
  const ref = parseAzureKeyUrl("https://contoso.vault.azure.net/keys/k", AZURE);
  it("accepts any version of the key for a versionless reference, only its own for a pinned one", () => {
    expect(sameKey(ref, `https://contoso.vault.azure.net/keys/k/${VERSION}`, AZURE)).toEqual({ version: VERSION });
    expect(sameKey(ref, `https://contoso.vault.azure.net/keys/other/${VERSION}`, AZURE)).toBeUndefined();
    expect(sameKey(ref, `https://fabrikam.vault.azure.net/keys/k/${VERSION}`, AZURE)).toBeUndefined();
    expect(sameKey(ref, "https://contoso.vault.azure.net/keys/k", AZURE)).toBeUndefined();
    const pinned = parseAzureKeyUrl(`https://contoso.vault.azure.net/keys/k/${VERSION}`, AZURE);
    expect(sameKey(pinned, `https://contoso.vault.azure.net/keys/k/${"f".repeat(32)}`, AZURE)).toBeUndefined();
  });
});
