import { createPublicKey } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { JWT } from "google-auth-library";
import { makeServiceAccountKey, type ServiceAccountKeyFile } from "./auth";
import type { DevGcpServiceAccount } from "./server";

// The development Cloud KMS's two sides of customer-managed keys, as in production:
// - the vendor: Custody's service account in the vendor's own project, which may use a
//   customer's key only where the key's IAM policy binds it a role;
// - the customer's administrator, in the customer's project, who may do everything there
//   (create key rings and keys, change versions, set IAM policies).
// Their keys are made fresh for each server (RSA, as Google's are), so no private key is
// checked in.

export const DEV_GCP_VENDOR_EMAIL = "custody@custody-vendor.iam.gserviceaccount.com";
export const DEV_GCP_CUSTOMER_PROJECT = "acme-customer";
export const DEV_GCP_ADMIN_EMAIL = `kms-admin@${DEV_GCP_CUSTOMER_PROJECT}.iam.gserviceaccount.com`;
export const DEV_GCP_LOCATION = "europe-west1";

export type DevGcpKeys = { vendor: ServiceAccountKeyFile; admin: ServiceAccountKeyFile; accounts: DevGcpServiceAccount[] };

/** New keys for the vendor and the customer's administrator. */
export function makeDevGcpKeys(): DevGcpKeys {
  const vendor = makeServiceAccountKey(DEV_GCP_VENDOR_EMAIL, "custody-vendor");
  const admin = makeServiceAccountKey(DEV_GCP_ADMIN_EMAIL, DEV_GCP_CUSTOMER_PROJECT);
  return {
    vendor: vendor.file,
    admin: admin.file,
    accounts: [
      { email: DEV_GCP_VENDOR_EMAIL, keyId: vendor.file.private_key_id, publicKeyPem: vendor.publicKeyPem },
      { email: DEV_GCP_ADMIN_EMAIL, keyId: admin.file.private_key_id, publicKeyPem: admin.publicKeyPem, projectAdmin: true },
    ],
  };
}

export const DEV_GCP_VENDOR_KEY_FILE = "custody-vendor-key.json";
export const DEV_GCP_ADMIN_KEY_FILE = "customer-admin-key.json";

function accountOf(file: ServiceAccountKeyFile, projectAdmin: boolean): DevGcpServiceAccount {
  const publicKeyPem = createPublicKey(file.private_key).export({ type: "spki", format: "pem" }).toString();
  return { email: file.client_email, keyId: file.private_key_id, publicKeyPem, projectAdmin };
}

/** The demo's keys, kept in `dir` (made on the first start), so what they wrapped stays readable. */
export function ensureDevGcpKeys(dir: string): DevGcpKeys {
  const vendorFile = path.join(dir, DEV_GCP_VENDOR_KEY_FILE);
  const adminFile = path.join(dir, DEV_GCP_ADMIN_KEY_FILE);
  if (!fs.existsSync(vendorFile) || !fs.existsSync(adminFile)) {
    const made = makeDevGcpKeys();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(vendorFile, JSON.stringify(made.vendor, null, 2), { mode: 0o600 });
    fs.writeFileSync(adminFile, JSON.stringify(made.admin, null, 2), { mode: 0o600 });
    return made;
  }
  const read = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as ServiceAccountKeyFile;
  const vendor = read(vendorFile);
  const admin = read(adminFile);
  return { vendor, admin, accounts: [accountOf(vendor, false), accountOf(admin, true)] };
}

/** A Cloud KMS client for a service account against a running development Cloud KMS. */
export function devGcpClient(endpoint: string, key: ServiceAccountKeyFile): KeyManagementServiceClient {
  const url = new URL(endpoint);
  return new KeyManagementServiceClient({
    fallback: "rest",
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: url.protocol.replace(":", ""),
    authClient: new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id }),
  });
}
