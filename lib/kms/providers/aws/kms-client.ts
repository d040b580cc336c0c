import { isKmsError, KeyUnsuitableError } from "@/lib/kms/errors";
import type { KeyRef, KmsClient, KmsRevocationAction, TenantBinding } from "@/lib/kms/provider";
import { awsDetails } from "./details";
import { tenantContext } from "./encryption-context";
import { awsKmsError } from "./errors";
import type { AwsKmsApi } from "./types";

// Custody's provider-neutral KmsClient on AWS KMS: the tenant key is made by GenerateDataKey
// under the customer's key with the tenant's encryption context, unwrapped by Decrypt with the
// same context, and wrapped again under a new key by Encrypt with it (rotating the customer's
// key); revocation and retirement retire the grants the customer recorded for Custody.

const context = (tenant: TenantBinding) => tenantContext(tenant.tenantId);

export function createAwsKmsClient(api: AwsKmsApi): KmsClient {
  return {
    async generateTenantKey(key: KeyRef, tenant: TenantBinding) {
      const { plaintext, ciphertext } = await api.generateDataKey(key.ref, context(tenant));
      return { plaintext, wrapped: ciphertext };
    },
    unwrapTenantKey: (key, wrapped, tenant) => api.decrypt(key.ref, wrapped, context(tenant)),
    wrapTenantKey: (key, plaintext, tenant) => api.encrypt(key.ref, plaintext, context(tenant)),
    async describeKey(key) {
      const described = await api.describeKey(key.ref);
      if (described.state !== "Enabled") {
        throw awsKmsError(described.state === "Disabled" ? "key_disabled" : "invalid_state", "DescribeKey", `KeyState:${described.state}`);
      }
      if (described.keyUsage !== null && described.keyUsage !== "ENCRYPT_DECRYPT") {
        throw new KeyUnsuitableError(`This key's usage is ${described.keyUsage}; Custody needs a symmetric ENCRYPT_DECRYPT key.`);
      }
      if (described.keySpec !== null && described.keySpec !== "SYMMETRIC_DEFAULT") {
        throw new KeyUnsuitableError(`This key's spec is ${described.keySpec}; Custody needs a SYMMETRIC_DEFAULT key.`);
      }
      return { summary: `Key is enabled (${described.keySpec ?? "symmetric"}, ${described.keyUsage ?? "encrypt/decrypt"}).` };
    },
    async revokeAccess(key) {
      const actions: KmsRevocationAction[] = [];
      for (const grantId of awsDetails(key).grantIds) {
        const auditDetails = { grantId };
        try {
          await api.retireGrant(key.ref, grantId);
          actions.push({ item: `grant ${grantId.slice(0, 12)}…`, done: true, message: "Grant retired.", auditDetails });
        } catch (error) {
          const message = isKmsError(error) ? error.message : "Could not retire the grant.";
          const reason = isKmsError(error) ? error.kind : "unexpected";
          actions.push({ item: `grant ${grantId.slice(0, 12)}…`, done: false, message, reason, auditDetails });
        }
      }
      return actions;
    },
  };
}
