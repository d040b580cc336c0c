import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDevVault } from "@/lib/dev/vault/server";
import { setKmsClientForTests } from "@/lib/kms/clients";
import type { ContractKey, KmsContractHarness } from "@/lib/kms/contract-harness";
import { createVaultTransitClient } from "./client";
import { vaultRequest, type VaultCall } from "./http";
import { vaultPolicy } from "./instructions";
import { parseVaultKeyRef } from "./key-ref";
import { createVaultKmsClient } from "./kms-client";
import { parseVaultServers } from "./settings";

// Vault / OpenBao Transit for the KMS contract suite: the development Vault (lib/dev/vault,
// HTTPS with its local CA), set up as a customer would with the root token — a transit mount,
// one AppRole for Custody, and for each admitted key the policy Custody's instructions give,
// appended to the AppRole's policy. A key is "disabled" with OpenBao's soft delete (Vault has
// no disabled state for transit keys). Custody's real client reaches it by address and CA.

/** A delay longer than any request timeout the contract suite sets. */
const TIMEOUT_FAULT_MS = 2_000;
const POLICY = "custody";
const ROLE = "custody";

export async function startVaultContractHarness(): Promise<KmsContractHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "custody-contract-vault-"));
  const vault = await startDevVault({ port: 0, dataDir });
  const admin = async (call: Omit<VaultCall, "token">) => {
    const reply = await vaultRequest({ address: vault.address, caPem: vault.caPem, timeoutMs: 10_000 }, { ...call, token: vault.rootToken });
    if (reply.status >= 300) throw new Error(`dev Vault ${call.method} ${call.path}: HTTP ${reply.status}`);
    return reply.json as { data?: Record<string, string> } | undefined;
  };
  await admin({ method: "POST", path: "sys/mounts/transit", body: { type: "transit" } });
  await admin({ method: "POST", path: "sys/auth/approle", body: { type: "approle" } });
  await admin({ method: "POST", path: `auth/approle/role/${ROLE}`, body: { token_policies: [POLICY], token_ttl: "1h" } });
  const roleId = (await admin({ method: "GET", path: `auth/approle/role/${ROLE}/role-id` }))!.data!.role_id!;
  const secretId = (await admin({ method: "POST", path: `auth/approle/role/${ROLE}/secret-id` }))!.data!.secret_id!;
  const serversJson = JSON.stringify([{ address: vault.address, caPem: vault.caPem, approle: { roleId, secretId } }]);
  const policyBlocks: string[] = [];

  const ref = (key: string) => parseVaultKeyRef({ address: vault.address, key }, { allowHttpLoopback: false });
  const fields = (key: string): ContractKey => ({ address: vault.address, mount: "transit", key });
  /** The customer pastes Custody's policy for this key into the policy Custody's AppRole carries. */
  const admitCustody = async (key: string, slug: string) => {
    policyBlocks.push(vaultPolicy(ref(key), slug));
    await admin({ method: "PUT", path: `sys/policies/acl/${POLICY}`, body: { policy: policyBlocks.join("\n") } });
  };
  const newKey = async () => {
    const key = `custody-${randomUUID().slice(0, 8)}`;
    await admin({ method: "POST", path: `transit/keys/${key}`, body: { type: "aes256-gcm96", derived: true } });
    return key;
  };

  return {
    provider: "vault",
    configEnv: { VAULT_SERVERS: serversJson },
    useClient: ({ maxAttempts, requestTimeoutMs }) =>
      setKmsClientForTests(
        "vault",
        createVaultKmsClient(createVaultTransitClient({ servers: parseVaultServers(serversJson, { allowHttpLoopback: false }), maxAttempts, timeoutMs: requestTimeoutMs })),
      ),
    keyAdmitting: async (tenant) => {
      const key = await newKey();
      await admitCustody(key, tenant.slug);
      return fields(key);
    },
    keyRefusing: async () => fields(await newKey()),
    missingKey: async () => {
      // The customer wrote the policy for a key name that has no key (a typo, or a deleted key).
      const key = `custody-missing-${randomUUID().slice(0, 8)}`;
      await admitCustody(key, "missing");
      return fields(key);
    },
    malformed: () => ({ key: { address: "http://vault.example.com:8200", mount: "transit", key: "custody-acme" }, field: "address" }),
    disable: async (key) => {
      await admin({ method: "DELETE", path: `transit/keys/${key.key}/soft-delete` });
    },
    enable: async (key) => {
      await admin({ method: "POST", path: `transit/keys/${key.key}/soft-delete-restore` });
    },
    injectFault: (fault, times) => {
      if (fault === "throttle") vault.faults.failNext(times, 429);
      else if (fault === "server_error") vault.faults.failNext(times, 500);
      else vault.faults.delayNext(TIMEOUT_FAULT_MS, times);
    },
    clearFaults: () => vault.faults.reset(),
    stop: async () => {
      setKmsClientForTests("vault", undefined);
      await vault.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
