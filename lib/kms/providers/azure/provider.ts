import { randomBytes } from "node:crypto";
import { ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { CryptographyClient, KeyClient, type KeyVaultKey, type KeyWrapAlgorithm } from "@azure/keyvault-keys";
import type { DataKey, EncryptionContext } from "@/lib/kms/provider";
import { decodeStored, encodeStored, openEnvelope, sealEnvelope, TENANT_KEY_BYTES } from "./envelope";
import { AzureKmsError, toAzureKmsError, type AzureOperation } from "./errors";
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

export type AzureKmsProvider = {
  readonly clientId: string;
  /** Parses and checks a key URL against the configured domains and vaults (AzureKeyRefError). */
  parseKeyRef(input: string): AzureKeyRef;
  describeKey(keyUrl: string): Promise<AzureKeyDescription>;
  generateDataKey(keyUrl: string, context: EncryptionContext): Promise<DataKey>;
  decrypt(keyUrl: string, stored: Uint8Array, context: EncryptionContext): Promise<Buffer>;
  close(): void;
};

export function createAzureKmsProvider(settings: AzureKmsSettings): AzureKmsProvider {
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

  function refOf(keyUrl: string, operation: AzureOperation): AzureKeyRef {
    try {
      return parseAzureKeyUrl(keyUrl, settings.domains);
    } catch (error) {
      if (error instanceof AzureKeyRefError) throw new AzureKmsError("invalid_request", operation, "BadRequest");
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
      key = await keyClient(ref.vaultUrl).getKey(ref.keyName, { version, ...requestOptions });
    } catch (error) {
      throw toAzureKmsError(error, operation);
    }
    const algorithm = wrapAlgorithm(key.keyType);
    const ops = key.keyOperations ?? [];
    if (!algorithm || (ops.length > 0 && !(ops.includes("wrapKey") && ops.includes("unwrapKey")))) throw new AzureKmsError("invalid_request", operation, "WrongKeyType");
    const now = Date.now();
    const { enabled, notBefore, expiresOn } = key.properties;
    if (enabled === false && operation !== "get") throw new AzureKmsError("key_disabled", operation, "KeyDisabled");
    if (expiresOn && now >= expiresOn.getTime()) throw new AzureKmsError("invalid_state", operation, "KeyExpired");
    if (notBefore && now < notBefore.getTime()) throw new AzureKmsError("invalid_state", operation, "KeyNotYetValid");
    return { key, algorithm };
  }

  return {
    clientId: settings.clientId,
    parseKeyRef: (input) => parseAzureKeyUrl(input, settings.domains),

    async describeKey(keyUrl) {
      const ref = refOf(keyUrl, "get");
      const { key, algorithm } = await usableKey(ref, ref.version, "get");
      return {
        kid: key.id ?? ref.keyUrl,
        keyType: String(key.keyType),
        enabled: key.properties.enabled !== false,
        notBefore: key.properties.notBefore,
        expiresOn: key.properties.expiresOn,
        algorithm,
      };
    },

    async generateDataKey(keyUrl, context) {
      const ref = refOf(keyUrl, "wrapKey");
      const { key, algorithm } = await usableKey(ref, ref.version, "wrapKey");
      const plaintext = randomBytes(TENANT_KEY_BYTES);
      const envelope = sealEnvelope(plaintext, context);
      try {
        const result = await new CryptographyClient(key, credential, clientOptions).wrapKey(algorithm, envelope, requestOptions);
        const kid = result.keyID ?? key.id;
        if (!kid || !sameKey(ref, kid, settings.domains)) throw new AzureKmsError("incorrect_key", "wrapKey", "IncorrectKey");
        return { plaintext, ciphertext: encodeStored(kid, result.result) };
      } catch (error) {
        plaintext.fill(0);
        throw toAzureKmsError(error, "wrapKey");
      } finally {
        envelope.fill(0);
      }
    },

    async decrypt(keyUrl, stored, context) {
      const ref = refOf(keyUrl, "unwrapKey");
      const decoded = decodeStored(stored);
      if (!decoded) throw new AzureKmsError("invalid_ciphertext", "unwrapKey", "InvalidCiphertext");
      const same = sameKey(ref, decoded.kid, settings.domains);
      if (!same) throw new AzureKmsError("incorrect_key", "unwrapKey", "IncorrectKey");
      const { key, algorithm } = await usableKey(ref, same.version, "unwrapKey");
      let envelope: Buffer;
      try {
        const result = await new CryptographyClient(key, credential, clientOptions).unwrapKey(algorithm, decoded.wrapped, requestOptions);
        envelope = Buffer.from(result.result);
      } catch (error) {
        throw toAzureKmsError(error, "unwrapKey");
      }
      const tenantKey = openEnvelope(envelope, context);
      envelope.fill(0);
      if (!tenantKey) throw new AzureKmsError("invalid_ciphertext", "unwrapKey", "InvalidCiphertext");
      return tenantKey;
    },

    close() {
      agent.destroy();
    },
  };
}

function wrapAlgorithm(keyType: string | undefined): KeyWrapAlgorithm | undefined {
  if (keyType === "RSA" || keyType === "RSA-HSM") return "RSA-OAEP-256";
  if (keyType === "oct-HSM" || keyType === "oct") return "A256KW";
  return undefined;
}
