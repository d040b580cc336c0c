// An Azure key reference is the key's URL, as the portal and `az keyvault key show` print it:
// https://<vault>.vault.azure.net/keys/<name>[/<version>] or, on Managed HSM,
// https://<hsm>.managedhsm.azure.net/keys/<name>[/<version>]. Without a version Custody wraps
// with the key's current version (and records which one, so rotation never strands a wrapped
// key); with one, always that version. The domains come from configuration (sovereign clouds
// use others), and a deployment may limit keys to its customers' vaults (KMS_AZURE_VAULTS).

export type AzureVaultKind = "vault" | "managedhsm";

export type AzureKeyRef = {
  kind: AzureVaultKind;
  /** https://<name>.<domain>, lower case: the vault or HSM. */
  vaultUrl: string;
  vaultName: string;
  keyName: string;
  version: string | undefined;
  /** The normalised key URL (vault URL + /keys/<name>[/<version>]). */
  keyUrl: string;
};

export type AzureDomains = {
  /** e.g. vault.azure.net (optionally with :port). */
  keyVault: string;
  managedHsm: string;
  /** Allowed vault URLs (lower case, no trailing slash); empty: any vault under the domains. */
  vaults: readonly string[];
};

export class AzureKeyRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AzureKeyRefError";
  }
}

// Key Vault and Managed HSM names: 3-24 letters, digits and hyphens, starting with a letter,
// ending with a letter or digit, no two hyphens in a row.
const VAULT_NAME = /^[a-z](?:[a-z0-9]|-(?!-)){1,22}[a-z0-9]$/;
const KEY_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;

const EXAMPLE = "https://contoso.vault.azure.net/keys/custody-cmk";

/** Parses and checks a key URL; throws AzureKeyRefError with a message for people. */
export function parseAzureKeyUrl(input: string, domains: AzureDomains): AzureKeyRef {
  const text = input.trim();
  if (text === "") throw new AzureKeyRefError(`Enter the key's URL, such as ${EXAMPLE}.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AzureKeyRefError(`That is not a URL. Enter the key's URL, such as ${EXAMPLE} (az keyvault key show --query key.kid).`);
  }
  if (url.protocol !== "https:") throw new AzureKeyRefError("A Key Vault key URL starts with https://.");
  if (url.username || url.password || url.search || url.hash) {
    throw new AzureKeyRefError("A key URL has no user name, query (?…) or fragment (#…): give only https://<vault>/keys/<name>[/<version>].");
  }
  const { kind, vaultName } = vaultOf(url, domains);
  const vaultUrl = `https://${url.host}`;
  if (domains.vaults.length > 0 && !domains.vaults.includes(vaultUrl)) {
    throw new AzureKeyRefError(`This key is in ${vaultUrl}, which is not one of the vaults this Custody deployment is configured for (${domains.vaults.join(", ")}).`);
  }
  const segments = url.pathname.replace(/\/+$/, "").split("/").slice(1);
  if (segments[0] !== "keys" || segments.length < 2 || segments.length > 3) {
    throw new AzureKeyRefError(`The path must be /keys/<name> or /keys/<name>/<version>, as in ${EXAMPLE}. Secrets and certificates cannot wrap keys.`);
  }
  const keyName = decodeURIComponent(segments[1]!);
  if (!KEY_NAME.test(keyName)) throw new AzureKeyRefError("A key name is 1-127 letters, digits and hyphens.");
  const version = segments[2];
  if (version !== undefined && !VERSION.test(version)) throw new AzureKeyRefError("A key version is 32 hexadecimal characters; leave it out to use the key's current version.");
  const normalisedVersion = version?.toLowerCase();
  return {
    kind,
    vaultUrl,
    vaultName,
    keyName,
    version: normalisedVersion,
    keyUrl: `${vaultUrl}/keys/${keyName}${normalisedVersion ? `/${normalisedVersion}` : ""}`,
  };
}

function vaultOf(url: URL, domains: AzureDomains): { kind: AzureVaultKind; vaultName: string } {
  const host = url.host.toLowerCase();
  for (const [kind, domain] of [["vault", domains.keyVault], ["managedhsm", domains.managedHsm]] as const) {
    if (!host.endsWith(`.${domain}`)) continue;
    const vaultName = host.slice(0, -domain.length - 1);
    if (!VAULT_NAME.test(vaultName)) {
      throw new AzureKeyRefError(`"${vaultName}" is not a ${kind === "vault" ? "Key Vault" : "Managed HSM"} name (3-24 letters, digits and single hyphens, starting with a letter).`);
    }
    return { kind, vaultName };
  }
  throw new AzureKeyRefError(`The key must be in an Azure Key Vault (https://<vault>.${domains.keyVault}) or a Managed HSM (https://<hsm>.${domains.managedHsm}).`);
}

/** Whether a key id (kid) Key Vault returned names the same vault and key as the reference. */
export function sameKey(ref: AzureKeyRef, kid: string, domains: AzureDomains): { version: string } | undefined {
  try {
    const other = parseAzureKeyUrl(kid, { ...domains, vaults: [] });
    if (other.vaultUrl !== ref.vaultUrl || other.keyName.toLowerCase() !== ref.keyName.toLowerCase() || !other.version) return undefined;
    if (ref.version && ref.version !== other.version) return undefined;
    return { version: other.version };
  } catch {
    return undefined;
  }
}
