import { z } from "zod";
import { readKeyFile } from "@/lib/utils/key-file";
import { parseVaultAddress, VaultKeyRefError, type AddressPolicy } from "./key-ref";

// The Vault servers Custody holds credentials for (VAULT_SERVERS, or VAULT_SERVERS_FILE: a JSON
// list). A customer's Vault is theirs, so each customer issues Custody an AppRole (or a token)
// and the vendor lists it here with the server's address, namespace and, for a private CA, the
// CA bundle. Credentials are bound to their server: Custody never sends them to an address a
// key reference names unless that address is listed here, so registering a key at a Vault of
// one's own cannot collect another customer's credentials.
//
//   [{ "address": "https://vault.acme.example:8200", "namespace": "acme",
//      "approle": { "roleId": "…", "secretId": "…", "mount": "approle" },
//      "caFile": "/etc/custody/acme-vault-ca.pem" }]
//   … or "token": "hvs.…" instead of "approle".

export type VaultAuth = { method: "token"; token: string } | { method: "approle"; roleId: string; secretId: string; mount: string };
export type VaultServer = { address: string; namespace: string; auth: VaultAuth; caPem?: string };

const pathLike = z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "must be a path such as approle");
const entrySchema = z
  .object({
    address: z.string().min(1, "is required"),
    namespace: z.string().optional(),
    token: z.string().min(1).optional(),
    approle: z.object({ roleId: z.string().min(1, "is required"), secretId: z.string().min(1, "is required"), mount: pathLike.default("approle") }).strict().optional(),
    caFile: z.string().min(1).optional(),
    caPem: z.string().min(1).optional(),
  })
  .strict()
  .refine((e) => (e.token === undefined) !== (e.approle === undefined), "needs exactly one of token and approle")
  .refine((e) => e.caFile === undefined || e.caPem === undefined, "takes caFile or caPem, not both");

/** Parses the servers list; throws an Error naming the entry and field, never a credential. */
export function parseVaultServers(text: string, policy: AddressPolicy): VaultServer[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("must be a JSON list of Vault servers");
  }
  const parsed = z.array(entrySchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`entry ${issue.path.map(String).join(".") || "(list)"} ${issue.message}`);
  }
  const servers = parsed.data.map((entry, index): VaultServer => {
    let address: string;
    try {
      address = parseVaultAddress(entry.address, policy);
    } catch (error) {
      throw new Error(`entry ${index}.address: ${error instanceof VaultKeyRefError ? error.message : "is not a Vault address"}`);
    }
    const caPem = entry.caFile ? readKeyFile(entry.caFile, (pem) => checkPem(pem)) : entry.caPem ? checkPem(entry.caPem) : undefined;
    const auth: VaultAuth = entry.token !== undefined ? { method: "token", token: entry.token } : { method: "approle", ...entry.approle! };
    return { address, namespace: (entry.namespace ?? "").replace(/^\/+|\/+$/g, ""), auth, caPem };
  });
  const seen = new Set<string>();
  for (const server of servers) {
    const id = `${server.address} ${server.namespace}`;
    if (seen.has(id)) throw new Error(`lists ${server.address}${server.namespace ? ` (namespace ${server.namespace})` : ""} twice`);
    seen.add(id);
  }
  return servers;
}

function checkPem(pem: string): string {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new Error("is not a PEM certificate bundle");
  return pem;
}

/** The settings the Vault provider takes from lib/config. */
export type VaultConfig = {
  VAULT_SERVERS?: string;
  VAULT_SERVERS_FILE?: string;
  VAULT_ALLOW_HTTP_LOOPBACK: boolean;
};

/** The configured servers (none when neither variable is set); throws naming the variable. */
export function vaultServersFrom(config: VaultConfig): VaultServer[] {
  const policy = { allowHttpLoopback: config.VAULT_ALLOW_HTTP_LOOPBACK };
  if (config.VAULT_SERVERS_FILE !== undefined) {
    try {
      return readKeyFile(config.VAULT_SERVERS_FILE, (text) => parseVaultServers(text, policy));
    } catch (error) {
      throw new Error(`VAULT_SERVERS_FILE ${(error as Error).message}`);
    }
  }
  if (config.VAULT_SERVERS === undefined) return [];
  try {
    return parseVaultServers(config.VAULT_SERVERS, policy);
  } catch (error) {
    throw new Error(`VAULT_SERVERS ${(error as Error).message}`);
  }
}

/** Start-up's check of the variables' values (lib/server/load-config.ts); http:// is judged with the rest of the configuration. */
export const checkVaultServers = (text: string) => parseVaultServers(text, { allowHttpLoopback: true });
export const checkVaultServersFile = (file: string) => readKeyFile(file, checkVaultServers);
