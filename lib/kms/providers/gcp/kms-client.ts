import { randomBytes } from "node:crypto";
import { KeyUnsuitableError } from "@/lib/kms/errors";
import type { KmsClient, TenantBinding } from "@/lib/kms/provider";
import type { GcpKms } from "./client";
import { gcpKmsError } from "./errors";

// Custody's provider-neutral KmsClient on Cloud KMS. Cloud KMS has no GenerateDataKey: the
// 256-bit tenant key is drawn here and wrapped with Encrypt under the customer's key; the
// additional authenticated data names the tenant, so the wrapped key opens (Decrypt with the
// same data) only for that tenant. Revocation has nothing to undo on the KMS side: Custody
// holds no grant there, only the customer's IAM bindings, which are theirs to remove.

/** The additional authenticated data that binds a wrapped tenant key to its tenant. */
export function tenantAad(tenantId: string): Buffer {
  return Buffer.from(`tenant_id=${tenantId}`, "utf8");
}

const aad = (tenant: TenantBinding) => tenantAad(tenant.tenantId);

export function createGcpKmsClient(api: GcpKms): KmsClient {
  return {
    async generateTenantKey(key, tenant) {
      const plaintext = randomBytes(32);
      try {
        return { plaintext, wrapped: await api.encrypt(key.ref, plaintext, aad(tenant)) };
      } catch (error) {
        plaintext.fill(0);
        throw error;
      }
    },
    unwrapTenantKey: (key, wrapped, tenant) => api.decrypt(key.ref, wrapped, aad(tenant)),
    wrapTenantKey: (key, plaintext, tenant) => api.encrypt(key.ref, plaintext, aad(tenant)),
    async describeKey(key) {
      const described = await api.describeKey(key.ref);
      if (described.purpose !== "ENCRYPT_DECRYPT") {
        throw new KeyUnsuitableError(`This key's purpose is ${described.purpose}; Custody needs a symmetric encryption key (purpose ENCRYPT_DECRYPT).`);
      }
      if (described.primaryState === "DISABLED") throw gcpKmsError("key_disabled", "GetCryptoKey", "PrimaryState:DISABLED");
      if (described.primaryState !== "ENABLED") throw gcpKmsError("invalid_state", "GetCryptoKey", `PrimaryState:${described.primaryState}`);
      const version = described.primaryVersion?.split("/").pop() ?? "?";
      return { summary: `Key is a symmetric encryption key; its primary version (${version}) is enabled.` };
    },
  };
}
