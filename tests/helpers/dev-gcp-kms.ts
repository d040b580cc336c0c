import fs from "node:fs";
import path from "node:path";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { setKmsClientForTests } from "@/lib/kms";
import { DEV_GCP_CUSTOMER_PROJECT, DEV_GCP_LOCATION, DEV_GCP_VENDOR_EMAIL, devGcpClient, makeDevGcpKeys } from "@/lib/dev/gcp-kms/defaults";
import { startDevGcpKms, type DevGcpKms } from "@/lib/dev/gcp-kms/server";
import type { ServiceAccountKeyFile } from "@/lib/dev/gcp-kms/auth";

// A development Cloud KMS for one test file: fresh service-account keys for Custody (the
// vendor) and the customer's administrator, and the administrator's real client to make keys
// and set their IAM policies as a customer would.

export type TestDevGcpKms = {
  server: DevGcpKms;
  /** Custody's key file. */
  vendorKey: ServiceAccountKeyFile;
  /** The customer administrator's key file. */
  adminKey: ServiceAccountKeyFile;
  admin: KeyManagementServiceClient;
  /** Makes key ring `ring` (once) and key `key` in it; returns the key's name. */
  createKey(ring: string, key: string): Promise<string>;
  /** Binds `roles` on the key to Custody's service account (replacing the policy). */
  grantVendor(keyName: string, roles: string[]): Promise<void>;
  stop(): Promise<void>;
};

type GetIamPolicyRequest = Parameters<KeyManagementServiceClient["getIamPolicy"]>[0];
type SetIamPolicyRequest = Parameters<KeyManagementServiceClient["setIamPolicy"]>[0];

export const ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter";
export const VIEWER = "roles/cloudkms.viewer";

export async function startTestDevGcpKms(clock?: () => number): Promise<TestDevGcpKms> {
  const keys = makeDevGcpKeys();
  const server = await startDevGcpKms({ port: 0, serviceAccounts: keys.accounts, clock });
  const admin = devGcpClient(server.endpoint, keys.admin);
  const location = `projects/${DEV_GCP_CUSTOMER_PROJECT}/locations/${DEV_GCP_LOCATION}`;
  const rings = new Set<string>();
  return {
    server,
    vendorKey: keys.vendor,
    adminKey: keys.admin,
    admin,
    async createKey(ring, key) {
      if (!rings.has(ring)) {
        await admin.createKeyRing({ parent: location, keyRingId: ring, keyRing: {} });
        rings.add(ring);
      }
      const [created] = await admin.createCryptoKey({ parent: `${location}/keyRings/${ring}`, cryptoKeyId: key, cryptoKey: { purpose: "ENCRYPT_DECRYPT" } });
      return created.name!;
    },
    async grantVendor(keyName, roles) {
      // The IAM methods are typed with the protobuf classes; their plain-object form is what they send.
      const [policy] = await admin.getIamPolicy({ resource: keyName } as GetIamPolicyRequest);
      const bindings = roles.map((role) => ({ role, members: [`serviceAccount:${DEV_GCP_VENDOR_EMAIL}`] }));
      await admin.setIamPolicy({ resource: keyName, policy: { etag: policy.etag, bindings } } as SetIamPolicyRequest);
    },
    async stop() {
      await admin.close();
      await server.close();
    },
  };
}

/**
 * The settings that point Custody's Cloud KMS provider at a development Cloud KMS, as
 * production sets them: Custody's key file (written to `dir`) and the endpoint. For a key-service
 * process's environment, or this process's (pointGcpKmsAt).
 */
export function gcpKmsEnvironment(dev: TestDevGcpKms, dir: string): Record<string, string> {
  const file = path.join(dir, "custody-gcp-key.json");
  fs.writeFileSync(file, JSON.stringify(dev.vendorKey), { mode: 0o600 });
  return { GCP_KMS_CREDENTIALS_FILE: file, GCP_KMS_ENDPOINT: dev.server.endpoint };
}

/**
 * Configures this process's Cloud KMS provider through the environment, so its client is the
 * one the registry builds from lib/config (the production path). Returns the undo.
 */
export function pointGcpKmsAt(dev: TestDevGcpKms, dir: string): () => void {
  const settings = gcpKmsEnvironment(dev, dir);
  const previous = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  setKmsClientForTests("gcp", undefined);
  return () => {
    setKmsClientForTests("gcp", undefined);
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
