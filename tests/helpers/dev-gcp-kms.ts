import fs from "node:fs";
import path from "node:path";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import type { ServiceAccountKeyFile } from "@/lib/dev/gcp-kms/auth";
import { devGcpCustomer } from "@/lib/dev/gcp-kms/customer";
import { makeDevGcpKeys } from "@/lib/dev/gcp-kms/defaults";
import { startDevGcpKms, type DevGcpKms } from "@/lib/dev/gcp-kms/server";
import { setKmsClientForTests } from "@/lib/kms";

export { ENCRYPTER_DECRYPTER, VIEWER } from "@/lib/dev/gcp-kms/customer";

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

export async function startTestDevGcpKms(): Promise<TestDevGcpKms> {
  const keys = makeDevGcpKeys();
  const server = await startDevGcpKms({ port: 0, serviceAccounts: keys.accounts });
  const customer = devGcpCustomer(server.endpoint, keys.admin);
  return {
    server,
    vendorKey: keys.vendor,
    adminKey: keys.admin,
    admin: customer.client,
    createKey: customer.createKey,
    grantVendor: customer.grantVendor,
    async stop() {
      await customer.close();
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
