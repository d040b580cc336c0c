import { randomBytes } from "node:crypto";
import { ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { CryptographyClient, KeyClient, type KeyVaultKey, type KeyWrapAlgorithm } from "@azure/keyvault-keys";
import type { KeyDescription, KeyRef, KmsClient, TenantBinding, TenantKeyMaterial } from "@/lib/kms/provider";
import { decodeStored, encodeStored, openEnvelope, sealEnvelope, TENANT_KEY_BYTES } from "./envelope";
import { azureKmsError, toAzureKmsError, type AzureOperation } from "./errors";
import { createAzureAgent } from "./http";
import { AzureKeyRefError, parseAzureKeyUrl, sameKey, type AzureDomains, type AzureKeyRef } from "./key-ref";

// Custody's Azure Key Vault / Managed HSM provider on @azure/identity and @azure/keyvault-keys.
// The tenant key is made here (32 random bytes) and wrapped by the customer's key: RSA-OAEP-256
// with an RSA key, A256KW (AES key wrap) with a Managed HSM oct-HSM key; the wrapped envelope
// binds it to the tenant (envelope.ts). Custody authenticates as its own multi-tenant Entra app
// (client id + secret from configuration); the vault's 401 challenge names the vault's tenant
// and the SDK asks that tenant for a token, so a customer's vault in their own tenant works
// once they consented to the app and gave it a role on the key.

export type AzureKmsSettings = {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityHost: string;
  disableInstanceDiscovery: boolean;
  caFile: string | undefined;
  domains: AzureDomains;
  /** Attempts per call including the first; 429 and 5xx are retried, honouring Retry-After. */
  maxAttempts: number;
  requestTimeoutMs: number;
};

export type AzureKeyDescription = {
  kid: string;
  keyType: string;
  enabled: boolean;
  notBefore: Date | undefined;
  expiresOn: Date | undefined;
  algorithm: KeyWrapAlgorithm;
};

export type AzureKmsClient = KmsClient & {
  /** GET the key and check it can wrap now: what the key page and the tests read. */
  inspectKey(key: KeyRef): Promise<AzureKeyDescription>;
  close(): void;
};

export function createAzureKmsClient(settings: AzureKmsSettings): AzureKmsClient {
  const agent = createAzureAgent(settings.caFile);
  const retryOptions = { maxRetries: settings.maxAttempts - 1, retryDelayInMs: 200, maxRetryDelayInMs: 5_000 };
  const credential: TokenCredential = new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret, {
    authorityHost: settings.authorityHost,
    disableInstanceDiscovery: settings.disableInstanceDiscovery,
    // Customers' vaults live in their own tenants: the vault's challenge names the tenant.
    additionallyAllowedTenants: ["*"],
    agent,
    retryOptions,
  });
  const clientOptions = { agent, retryOptions };
  const keyClients = new Map<string, KeyClient>();
  const requestOptions = { requestOptions: { timeout: settings.requestTimeoutMs } };

  /**
   * The SDK retries 429 (after Retry-After), 5xx and dropped connections itself, but a request
   * that outlives its timeout is aborted and thrown at once: those are retried here, within the
   * same number of attempts.
   */
  async function attempt<T>(call: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await call();
      } catch (error) {
        if (tries >= settings.maxAttempts || !timedOut(error)) throw error;
      }
    }
  }

  function refOf(keyUrl: string, operation: AzureOperation): AzureKeyRef {
    try {
      return parseAzureKeyUrl(keyUrl, settings.domains);
    } catch (error) {
      if (error instanceof AzureKeyRefError) throw azureKmsError("invalid_request", operation, "BadRequest");
      throw error;
    }
  }

  function keyClient(vaultUrl: string): KeyClient {
    let client = keyClients.get(vaultUrl);
    if (!client) {
      client = new KeyClient(vaultUrl, credential, clientOptions);
      keyClients.set(vaultUrl, client);
    }
    return client;
  }

  /** GET the key (the version given, or the current one) and check it can wrap, now. */
  async function usableKey(ref: AzureKeyRef, version: string | undefined, operation: AzureOperation): Promise<{ key: KeyVaultKey; algorithm: KeyWrapAlgorithm }> {
    let key: KeyVaultKey;
    try {
      key = await attempt(() => keyClient(ref.vaultUrl).getKey(ref.keyName, { version, ...requestOptions }));
    } catch (error) {
      throw toAzureKmsError(error, operation);
    }
    const algorithm = wrapAlgorithm(key.keyType);
    const ops = key.keyOperations ?? [];
    if (!algorithm || (ops.length > 0 && !(ops.includes("wrapKey") && ops.includes("unwrapKey")))) throw azureKmsError("invalid_request", operation, "WrongKeyType");
    const now = Date.now();
    const { enabled, notBefore, expiresOn } = key.properties;
    if (enabled === false && operation !== "get") throw azureKmsError("key_disabled", operation, "KeyDisabled");
    if (expiresOn && now >= expiresOn.getTime()) throw azureKmsError("invalid_state", operation, "KeyExpired");
    if (notBefore && now < notBefore.getTime()) throw azureKmsError("invalid_state", operation, "KeyNotYetValid");
    return { key, algorithm };
  }

  async function inspectKey(key: KeyRef): Promise<AzureKeyDescription> {
    const ref = refOf(key.ref, "get");
    const { key: found, algorithm } = await usableKey(ref, ref.version, "get");
    return {
      kid: found.id ?? ref.keyUrl,
      keyType: String(found.keyType),
      enabled: found.properties.enabled !== false,
      notBefore: found.properties.notBefore,
      expiresOn: found.properties.expiresOn,
      algorithm,
    };
  }

  async function wrapTenantKey(key: KeyRef, plaintext: Uint8Array, tenant: TenantBinding): Promise<Buffer> {
    const ref = refOf(key.ref, "wrapKey");
    const { key: found, algorithm } = await usableKey(ref, ref.version, "wrapKey");
    const envelope = sealEnvelope(Buffer.from(plaintext), tenant);
    try {
      const crypto = new CryptographyClient(found, credential, clientOptions);
      const result = await attempt(() => crypto.wrapKey(algorithm, envelope, requestOptions));
      const kid = result.keyID ?? found.id;
      if (!kid || !sameKey(ref, kid, settings.domains)) throw azureKmsError("incorrect_key", "wrapKey", "IncorrectKey");
      return encodeStored(kid, result.result);
    } catch (error) {
      throw toAzureKmsError(error, "wrapKey");
    } finally {
      envelope.fill(0);
    }
  }

  return {
    inspectKey,
    wrapTenantKey,

    async describeKey(key): Promise<KeyDescription> {
      const found = await inspectKey(key);
      if (!found.enabled) throw azureKmsError("key_disabled", "get", "KeyDisabled");
      const until = found.expiresOn ? `, valid until ${found.expiresOn.toISOString().slice(0, 10)}` : "";
      return { summary: `Key is enabled (${found.keyType}, wraps with ${found.algorithm}${until}).` };
    },

    async generateTenantKey(key, tenant): Promise<TenantKeyMaterial> {
      const plaintext = randomBytes(TENANT_KEY_BYTES);
      try {
        return { plaintext, wrapped: await wrapTenantKey(key, plaintext, tenant) };
      } catch (error) {
        plaintext.fill(0);
        throw error;
      }
    },

    async unwrapTenantKey(key, stored, tenant) {
      const ref = refOf(key.ref, "unwrapKey");
      const decoded = decodeStored(stored);
      if (!decoded) throw azureKmsError("invalid_ciphertext", "unwrapKey", "InvalidCiphertext");
      const same = sameKey(ref, decoded.kid, settings.domains);
      if (!same) throw azureKmsError("incorrect_key", "unwrapKey", "IncorrectKey");
      const { key: found, algorithm } = await usableKey(ref, same.version, "unwrapKey");
      let envelope: Buffer;
      try {
        const crypto = new CryptographyClient(found, credential, clientOptions);
        const result = await attempt(() => crypto.unwrapKey(algorithm, decoded.wrapped, requestOptions));
        envelope = Buffer.from(result.result);
      } catch (error) {
        throw toAzureKmsError(error, "unwrapKey");
      }
      const tenantKey = openEnvelope(envelope, tenant);
      envelope.fill(0);
      if (!tenantKey) throw azureKmsError("invalid_ciphertext", "unwrapKey", "InvalidCiphertext");
      return tenantKey;
    },

    close() {
      agent.destroy();
    },
  };
}

/** An aborted request: the per-request timeout fired (the SDK throws an AbortError, not a RestError). */
function timedOut(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

function wrapAlgorithm(keyType: string | undefined): KeyWrapAlgorithm | undefined {
  if (keyType === "RSA" || keyType === "RSA-HSM") return "RSA-OAEP-256";
  if (keyType === "oct-HSM" || keyType === "oct") return "A256KW";
  return undefined;
}
