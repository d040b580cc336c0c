import "server-only";
import path from "node:path";
import type { Config } from "@/lib/config";
import { devGcpCustomer, ENCRYPTER_DECRYPTER, VIEWER } from "@/lib/dev/gcp-kms/customer";
import { DEV_GCP_ADMIN_KEY_FILE, DEV_GCP_CUSTOMER_PROJECT, DEV_GCP_LOCATION, DEV_GCP_VENDOR_KEY_FILE, ensureDevGcpKeys } from "@/lib/dev/gcp-kms/defaults";
import { readKeyFile } from "@/lib/utils/key-file";
import type { ServiceAccountKeyFile } from "@/lib/dev/gcp-kms/auth";

// The demo's Google Cloud KMS: the development Cloud KMS (any free port, resources and the two
// service-account keys kept under <data dir>/dev-gcp-kms), Custody pointed at it as production
// is (its key file and the endpoint), and the Hooli tenant, whose key in the customer's
// project already binds Custody's service account the roles its instructions ask for.

export const GCP_DEMO_TENANT = { name: "Hooli", slug: "hooli", adminEmail: "admin@hooli.example" } as const;
const RING = "custody-demo";

export async function startGcpDemoKms(dataDir: string) {
  const { startDevGcpKms } = await import("@/lib/dev/gcp-kms/server");
  const dir = path.join(dataDir, "dev-gcp-kms");
  const keys = ensureDevGcpKeys(dir);
  const server = await startDevGcpKms({ port: 0, serviceAccounts: keys.accounts, dataDir: path.join(dir, "store") });
  return { settings: { GCP_KMS_CREDENTIALS_FILE: path.join(dir, DEV_GCP_VENDOR_KEY_FILE), GCP_KMS_ENDPOINT: server.endpoint }, close: server.close };
}

/** Hooli (made once, by the demo's vendor admin) and its key in the development Cloud KMS, or null without the demo. */
export async function gcpDemoTenantKey(config: Config): Promise<string | null> {
  if (!config.GCP_KMS_CREDENTIALS_FILE || !config.GCP_KMS_ENDPOINT) return null;
  const { getDb } = await import("@/lib/db");
  const { DEMO_EMAILS } = await import("./seed");
  const vendor = await getDb().user.findUnique({ where: { email: DEMO_EMAILS.vendorAdmin } });
  if (!vendor) return null;
  if (!(await getDb().tenant.findUnique({ where: { slug: GCP_DEMO_TENANT.slug } }))) {
    const { createTenant } = await import("@/lib/tenants");
    await createTenant({ userId: vendor.id, request: { sourceIp: null, userAgent: "custody demo seed", requestId: "demo-seed" } }, GCP_DEMO_TENANT);
  }
  const adminKey = readKeyFile(path.join(path.dirname(config.GCP_KMS_CREDENTIALS_FILE), DEV_GCP_ADMIN_KEY_FILE), (text) => JSON.parse(text) as ServiceAccountKeyFile);
  const customer = devGcpCustomer(config.GCP_KMS_ENDPOINT, adminKey);
  const name = `projects/${DEV_GCP_CUSTOMER_PROJECT}/locations/${DEV_GCP_LOCATION}/keyRings/${RING}/cryptoKeys/${GCP_DEMO_TENANT.slug}`;
  try {
    const exists = await customer.client.getCryptoKey({ name }).then(
      () => true,
      (error: { code?: number }) => {
        if (error.code === 5) return false; // NOT_FOUND: the first start
        throw error;
      },
    );
    if (!exists) await customer.createKey(RING, GCP_DEMO_TENANT.slug);
    await customer.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    return name;
  } finally {
    await customer.close();
  }
}
