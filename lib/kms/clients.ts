import "server-only";
import { getConfig } from "@/lib/config";
import type { KeyRef, KmsClient } from "./provider";
import type { KmsProviderName } from "./provider-names";
import { KMS_PROVIDERS } from "./registry";

// One client per provider per process, built on first use from the installed configuration.
// Kept on globalThis: `npm start` loads lib/ twice (Next's bundle and its own) and both must
// share one client per provider (connection pools, test overrides).
const globalForKms = globalThis as unknown as { custodyKmsClients?: Map<KmsProviderName, KmsClient> };

function clients(): Map<KmsProviderName, KmsClient> {
  globalForKms.custodyKmsClients ??= new Map();
  return globalForKms.custodyKmsClients;
}

/** The process's client for a provider. */
export function kmsClient(provider: KmsProviderName): KmsClient {
  let client = clients().get(provider);
  if (!client) {
    client = KMS_PROVIDERS[provider].createClient(getConfig());
    clients().set(provider, client);
  }
  return client;
}

/** The client for a stored key's provider (per-key resolution). */
export function kmsClientFor(key: KeyRef): KmsClient {
  return kmsClient(key.provider);
}

/** Replaces (or, with undefined, forgets) a provider's client: tests that point at their own development server. */
export function setKmsClientForTests(provider: KmsProviderName, client: KmsClient | undefined): void {
  if (client) clients().set(provider, client);
  else clients().delete(provider);
}
