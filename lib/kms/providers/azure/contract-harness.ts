import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freezeConfig, parseEnv } from "@/lib/config";
import { DEV_AZURE_CUSTODY_APP, DEV_AZURE_CUSTOMER_TENANT, DEV_AZURE_VENDOR_TENANT } from "@/lib/dev/azure-kv/defaults";
import { startDevAzureKv } from "@/lib/dev/azure-kv/server";
import { setKmsClientForTests } from "@/lib/kms/clients";
import type { ContractKey, KmsContractHarness } from "@/lib/kms/contract-harness";
import { createAzureKmsClient, type AzureKmsClient } from "./client";
import { azureSettings } from "./definition";
import { KEY_VAULT_ROLE } from "./instructions";

// Azure Key Vault for the KMS contract suite: the development Key Vault (lib/dev/azure-kv: HTTPS
// with its own CA, the bearer challenge, Entra's client-credentials tokens, role assignments),
// reached by the real @azure/identity and @azure/keyvault-keys through Custody's settings only.
// The customer's vault is in the customer's tenant, where Custody's app was consented to.

/** A delay longer than any request timeout the contract suite sets. */
const TIMEOUT_FAULT_MS = 2_000;
const VAULT = { kind: "vault" as const, name: "contract-keys" };

export async function startAzureContractHarness(): Promise<KmsContractHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "custody-contract-azure-"));
  const kv = await startDevAzureKv({ port: 0, dataDir });
  const { url: vaultUrl } = kv.createVault({ ...VAULT, tenantId: DEV_AZURE_CUSTOMER_TENANT });
  kv.setServicePrincipal(DEV_AZURE_CUSTOMER_TENANT, DEV_AZURE_CUSTODY_APP.clientId, true);
  const configEnv = {
    KMS_AZURE_TENANT_ID: DEV_AZURE_VENDOR_TENANT,
    KMS_AZURE_CLIENT_ID: DEV_AZURE_CUSTODY_APP.clientId,
    KMS_AZURE_CLIENT_SECRET: DEV_AZURE_CUSTODY_APP.secret,
    KMS_AZURE_AUTHORITY_HOST: kv.authorityHost,
    KMS_AZURE_DISABLE_INSTANCE_DISCOVERY: "true",
    KMS_AZURE_CA_FILE: kv.caPath,
    KMS_AZURE_KEY_VAULT_DOMAIN: `${kv.vaultDnsSuffix}:${kv.port}`,
    KMS_AZURE_MANAGED_HSM_DOMAIN: `${kv.managedHsmDnsSuffix}:${kv.port}`,
  };
  let client: AzureKmsClient | undefined;
  const newKey = () => {
    const name = `k-${randomBytes(6).toString("hex")}`;
    kv.createKey(VAULT, name, "RSA");
    return { name, keyUrl: `${vaultUrl}/keys/${name}` };
  };
  const nameOf = (key: ContractKey) => key.keyUrl!.split("/keys/")[1]!.split("/")[0]!;
  return {
    provider: "azure",
    configEnv,
    // Key Vault checks the caller's role before it looks the key up: without a role at the
    // vault's scope, a key that does not exist is refused (403) rather than reported missing.
    missingKeyKinds: ["not_found", "access_denied"],
    useClient: ({ maxAttempts, requestTimeoutMs }) => {
      client?.close();
      client = createAzureKmsClient({ ...azureSettings(freezeConfig(parseEnv(configEnv, "library"))), maxAttempts, requestTimeoutMs });
      setKmsClientForTests("azure", client);
    },
    keyAdmitting: async () => {
      const { name, keyUrl } = newKey();
      // What the customer runs from Custody's instructions: the role on this key only.
      kv.assignRole(VAULT, { principal: DEV_AZURE_CUSTODY_APP.clientId, role: KEY_VAULT_ROLE, scope: `/keys/${name}` });
      return { keyUrl };
    },
    keyRefusing: async () => ({ keyUrl: newKey().keyUrl }),
    missingKey: async () => ({ keyUrl: `${vaultUrl}/keys/missing-${randomBytes(6).toString("hex")}` }),
    malformed: () => ({ key: { keyUrl: "https://contoso.example.com/secrets/custody" }, field: "keyUrl" }),
    disable: async (key) => kv.updateKey(VAULT, nameOf(key), undefined, { enabled: false }),
    enable: async (key) => kv.updateKey(VAULT, nameOf(key), undefined, { enabled: true }),
    injectFault: (fault, times) => {
      if (fault === "throttle") kv.faults.throttleNext(times, 0);
      else if (fault === "server_error") kv.faults.failNext(times);
      else kv.faults.delayNext(TIMEOUT_FAULT_MS, times);
    },
    clearFaults: () => kv.faults.reset(),
    stop: async () => {
      setKmsClientForTests("azure", undefined);
      client?.close();
      await kv.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
