import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDevVault, type DevVault } from "@/lib/dev/vault/server";
import { vaultRequest, type VaultCall, type VaultReply } from "@/lib/kms/providers/vault/http";

// A development Vault for one test file (port 0, a throw-away data folder that stop() removes),
// and the customer's administrator: root-token calls over the same HTTP API a `vault` CLI uses.

export type TestDevVault = {
  readonly vault: DevVault;
  readonly dataDir: string;
  /** A call as the customer's administrator (the root token), in `namespace` when given; throws unless 2xx. */
  admin(call: Omit<VaultCall, "token">, namespace?: string): Promise<VaultReply>;
  restart(): Promise<DevVault>;
  stop(): Promise<void>;
};

export async function startTestDevVault(prefix = "custody-dev-vault-"): Promise<TestDevVault> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const start = () => startDevVault({ port: 0, dataDir });
  let vault = await start().catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  let stopped = false;
  return {
    get vault() {
      return vault;
    },
    dataDir,
    async admin(call, namespace) {
      const reply = await vaultRequest({ address: vault.address, caPem: vault.caPem, namespace, timeoutMs: 10_000 }, { ...call, token: vault.rootToken });
      if (reply.status >= 300) throw new Error(`${call.method} ${call.path}: HTTP ${reply.status} ${JSON.stringify(reply.json)}`);
      return reply;
    },
    async restart() {
      await vault.close();
      vault = await start();
      return vault;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await vault.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
