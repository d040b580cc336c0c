import type { KeyManagementServiceClient } from "@google-cloud/kms";
import type { ServiceAccountKeyFile } from "./auth";
import { DEV_GCP_CUSTOMER_PROJECT, DEV_GCP_LOCATION, DEV_GCP_VENDOR_EMAIL, devGcpClient } from "./defaults";

// The customer's administrator at work in the development Cloud KMS, through the real client
// library as a customer would use gcloud: key rings and keys, IAM bindings for Custody's
// service account, version states. Shared by the tests, the contract harness and the demo.

export const ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter";
export const VIEWER = "roles/cloudkms.viewer";

// The IAM methods are typed with the protobuf classes; their plain-object form is what they send.
type GetIamPolicyRequest = Parameters<KeyManagementServiceClient["getIamPolicy"]>[0];
type SetIamPolicyRequest = Parameters<KeyManagementServiceClient["setIamPolicy"]>[0];

export type DevGcpCustomer = {
  client: KeyManagementServiceClient;
  /** Makes key ring `ring` (once) and key `key` in it; returns the key's resource name. */
  createKey(ring: string, key: string): Promise<string>;
  /** Sets the key's bindings for Custody's service account to `roles` (none: no access). */
  grantVendor(keyName: string, roles: readonly string[]): Promise<void>;
  /** Enables or disables the key's primary version. */
  setPrimaryEnabled(keyName: string, enabled: boolean): Promise<void>;
  close(): Promise<void>;
};

export function devGcpCustomer(endpoint: string, adminKey: ServiceAccountKeyFile): DevGcpCustomer {
  const client = devGcpClient(endpoint, adminKey);
  const location = `projects/${DEV_GCP_CUSTOMER_PROJECT}/locations/${DEV_GCP_LOCATION}`;
  const rings = new Set<string>();
  return {
    client,
    async createKey(ring, key) {
      if (!rings.has(ring)) {
        await client.createKeyRing({ parent: location, keyRingId: ring, keyRing: {} }).catch((error: { code?: number }) => {
          if (error.code !== 6) throw error; // ALREADY_EXISTS: made by an earlier run of the demo
        });
        rings.add(ring);
      }
      const [created] = await client.createCryptoKey({ parent: `${location}/keyRings/${ring}`, cryptoKeyId: key, cryptoKey: { purpose: "ENCRYPT_DECRYPT" } });
      return created.name!;
    },
    async grantVendor(keyName, roles) {
      const [policy] = await client.getIamPolicy({ resource: keyName } as GetIamPolicyRequest);
      const bindings = roles.map((role) => ({ role, members: [`serviceAccount:${DEV_GCP_VENDOR_EMAIL}`] }));
      await client.setIamPolicy({ resource: keyName, policy: { etag: policy.etag, bindings } } as SetIamPolicyRequest);
    },
    async setPrimaryEnabled(keyName, enabled) {
      const [key] = await client.getCryptoKey({ name: keyName });
      const name = key.primary?.name;
      if (!name) throw new Error(`${keyName} has no primary version`);
      await client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state: enabled ? "ENABLED" : "DISABLED" }, updateMask: { paths: ["state"] } });
    },
    close: () => client.close(),
  };
}
