import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freezeConfig, parseEnv, type Config } from "@/lib/config";
import { DEV_AZURE_CUSTODY_APP, DEV_AZURE_VENDOR_TENANT } from "@/lib/dev/azure-kv/defaults";
import { startDevAzureKv, type DevAzureKv } from "@/lib/dev/azure-kv/server";

// A development Azure Key Vault for one test file (port 0, a throw-away data folder with its
// own CA), and the Custody configuration that points the Azure provider at it: exactly the
// settings a deployment would use for a sovereign cloud or a private endpoint (authority host,
// instance discovery off, a CA bundle, vault domains), with Custody's development app.

export type TestDevAzureKv = {
  kv: DevAzureKv;
  dataDir: string;
  /** Custody's configuration for this server; `env` overrides or adds variables. */
  config(env?: Record<string, string>): Config;
  stop(): Promise<void>;
};

export async function startTestDevAzureKv(options: { clock?: () => number } = {}): Promise<TestDevAzureKv> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "custody-dev-azure-"));
  const kv = await startDevAzureKv({ port: 0, dataDir, clock: options.clock });
  let stopped = false;
  return {
    kv,
    dataDir,
    config: (env = {}) =>
      freezeConfig(
        parseEnv(
          {
            KMS_AZURE_TENANT_ID: DEV_AZURE_VENDOR_TENANT,
            KMS_AZURE_CLIENT_ID: DEV_AZURE_CUSTODY_APP.clientId,
            KMS_AZURE_CLIENT_SECRET: DEV_AZURE_CUSTODY_APP.secret,
            KMS_AZURE_AUTHORITY_HOST: kv.authorityHost,
            KMS_AZURE_DISABLE_INSTANCE_DISCOVERY: "true",
            KMS_AZURE_CA_FILE: kv.caPath,
            KMS_AZURE_KEY_VAULT_DOMAIN: `${kv.vaultDnsSuffix}:${kv.port}`,
            KMS_AZURE_MANAGED_HSM_DOMAIN: `${kv.managedHsmDnsSuffix}:${kv.port}`,
            KMS_MAX_ATTEMPTS: "3",
            ...env,
          },
          "library",
        ),
      ),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await kv.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
