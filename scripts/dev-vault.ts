// Starts the development Vault on its own:
//
//   npx tsx scripts/dev-vault.ts
//
// Environment (all optional):
//   DEV_VAULT_PORT      port to listen on (default 8200)
//   DEV_VAULT_HOST      interface to listen on (default 127.0.0.1: the root token is printed)
//   DEV_VAULT_DATA_DIR  folder of the encrypted store, its master key, the root token and the
//                       TLS files (default .custody/dev-vault-standalone)
//
// It prints the address, the CA to trust and the root token. Point the vault (or bao) CLI at it:
//   VAULT_ADDR=https://127.0.0.1:8200 VAULT_CACERT=<ca> VAULT_TOKEN=<root token> vault status
import { z } from "zod";
import { parseVariables } from "../lib/config";
import { environmentVariables } from "../lib/config/environment";
import { startDevVault } from "../lib/dev/vault/server";
import { stopOnSignals } from "../lib/server/stop-on-signals";

const envSchema = z.object({
  DEV_VAULT_PORT: z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(1).max(65535).default(8200),
  DEV_VAULT_HOST: z.string().trim().min(1, "must not be empty").default("127.0.0.1"),
  DEV_VAULT_DATA_DIR: z.string().trim().min(1, "must not be empty").default(".custody/dev-vault-standalone"),
});

async function main() {
  const env = parseVariables(envSchema, environmentVariables(), { subject: "dev Vault configuration" });
  const vault = await startDevVault({ port: env.DEV_VAULT_PORT, host: env.DEV_VAULT_HOST, dataDir: env.DEV_VAULT_DATA_DIR });
  console.log(`Custody development Vault (not for production) listening: ${vault.address}`);
  console.log(`  VAULT_ADDR=${vault.address} VAULT_CACERT=${vault.caPath} VAULT_TOKEN=${vault.rootToken}`);
  console.log("  e.g. vault secrets enable transit; vault write transit/keys/custody-acme derived=true");
  stopOnSignals("the dev Vault", () => vault.close());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
