import { randomBytes } from "node:crypto";
import { KeyUnsuitableError, KmsError } from "@/lib/kms/errors";
import type { KeyRef, KmsClient, TenantBinding } from "@/lib/kms/provider";
import type { VaultTransitClient } from "./client";
import { vaultRefOf } from "./details";
import { softDeletedError, toVaultKmsError } from "./errors";

// Custody's provider-neutral KmsClient on Vault / OpenBao Transit: a tenant key is 32 random
// bytes made here and wrapped with transit/encrypt, bound to the tenant by `context` (a derived
// key derives a key per tenant) and `associated_data` (authenticated by AES-GCM either way);
// the wrapped key is Vault's ciphertext text ("vault:vN:…") as bytes. Vault keeps every key
// version it may still decrypt, so a rotation in Vault never strands a tenant key: only raising
// min_decryption_version past its version does (mapped to invalid_state).

/** Key types whose encryption takes associated data (so the tenant binding is authenticated). */
const AEAD_TYPES = new Set(["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305"]);

/** The bytes that bind a wrapped key to its tenant, as the key page shows them. */
export const tenantBindingText = (tenantId: string) => `tenant_id=${tenantId}`;
const binding = (tenant: TenantBinding) => Buffer.from(tenantBindingText(tenant.tenantId), "utf8");

export function createVaultKmsClient(transit: VaultTransitClient): KmsClient {
  async function wrap(key: KeyRef, plaintext: Uint8Array, tenant: TenantBinding): Promise<Buffer> {
    try {
      return Buffer.from(await transit.encrypt(vaultRefOf(key), Buffer.from(plaintext), binding(tenant)), "utf8");
    } catch (error) {
      throw toVaultKmsError(error, "transit/encrypt");
    }
  }

  return {
    async generateTenantKey(key, tenant) {
      const plaintext = randomBytes(32);
      try {
        return { plaintext, wrapped: await wrap(key, plaintext, tenant) };
      } catch (error) {
        plaintext.fill(0);
        throw error;
      }
    },
    wrapTenantKey: wrap,
    async unwrapTenantKey(key, wrapped, tenant) {
      const text = Buffer.from(wrapped).toString("utf8");
      if (!/^vault:v[0-9]+:[A-Za-z0-9+/=]+$/.test(text)) {
        throw new KmsError("invalid_ciphertext", "transit/decrypt", "NotVaultCiphertext", "The wrapped tenant key is not a Vault transit ciphertext: it was made by another KMS or is damaged.");
      }
      try {
        return await transit.decrypt(vaultRefOf(key), text, binding(tenant));
      } catch (error) {
        throw toVaultKmsError(error, "transit/decrypt");
      }
    },
    async describeKey(key) {
      let info;
      try {
        info = await transit.readKey(vaultRefOf(key));
      } catch (error) {
        throw toVaultKmsError(error, "transit/keys");
      }
      if (info.softDeleted) throw toVaultKmsError(softDeletedError("transit/keys"), "transit/keys");
      if (!AEAD_TYPES.has(info.type) || !info.supportsEncryption || !info.supportsDecryption) {
        throw new KeyUnsuitableError(`This transit key is of type ${info.type.slice(0, 40)}; Custody needs an encryption key with associated data, such as aes256-gcm96.`);
      }
      const derived = info.derived ? "derived (one key per tenant)" : "not derived (tenants told apart by associated data)";
      return { summary: `Transit key ${info.type}, ${derived}, version ${info.latestVersion}; versions from ${info.minDecryptionVersion} on still decrypt.` };
    },
  };
}
