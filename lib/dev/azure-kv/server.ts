import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { errorFields, log } from "@/lib/log";
import { DEV_AZURE_CUSTODY_APP } from "./defaults";
import { handleEntra } from "./entra";
import { EntraError, KeyVaultError } from "./errors";
import { AzureFaults, type DevAzureKvFaults } from "./faults";
import { handleVault, authenticate, challengeHeader, type VaultContext } from "./keyvault";
import { DEV_AZURE_DOMAIN, ensureDevAzurePki } from "./pki";
import type { RoleAssignment, Vault } from "./store";
import { AzureKvStore, type App, type KeyType } from "./store";
import { TokenSigner } from "./tokens";
import type { KeyOperation, VaultKind } from "./roles";

// The development Azure Key Vault: one HTTPS server (its own local CA, pki.ts) that is, by Host
// header, Microsoft Entra's token endpoint for every tenant (localhost: the authority host) and
// every Key Vault (<name>.vault.localhost) and Managed HSM (<name>.managedhsm.localhost) it
// holds. @azure/identity and @azure/keyvault-keys reach it through Custody's ordinary settings
// (authority host, instance discovery off, CA bundle, vault DNS suffixes) and cannot tell it
// from Azure for the calls Custody makes: the 401 bearer challenge, the client-credentials
// token, GET key, wrapkey and unwrapkey, role assignments, key attributes and Azure's errors.

export type DevAzureKvOptions = {
  port: number;
  /** Folder for the CA, certificates and the store; keys persist there across restarts. */
  dataDir: string;
  host?: string;
  /** The clock requests are decided by (epoch ms); Date.now by default. */
  clock?: () => number;
};

export type DevAzureKv = {
  /** https://localhost:<port>: the authority host for @azure/identity. */
  authorityHost: string;
  /** The CA certificate (PEM) and its file, for Custody's CA-bundle setting. */
  caPem: string;
  caPath: string;
  /** The DNS suffixes of the vaults and HSMs this server holds (with the port Custody must use). */
  vaultDnsSuffix: string;
  managedHsmDnsSuffix: string;
  port: number;
  faults: DevAzureKvFaults;
  /** Key Vault requests received, by operation (get, wrapKey, unwrapKey), faulted ones included. */
  calls(): Record<string, number>;
  registerApp(app: App): void;
  setServicePrincipal(tenantId: string, clientId: string, present: boolean): void;
  createVault(input: { name: string; kind: VaultKind; tenantId: string; permissionModel?: "rbac" | "accessPolicy" }): { url: string };
  /** Creates a key (or a new current version); returns its versioned key id (kid). */
  createKey(vault: { kind: VaultKind; name: string }, keyName: string, kty: KeyType, attributes?: { enabled?: boolean; nbf?: number; exp?: number }): string;
  /** Whether the vault holds a key by this name (any version). */
  hasKey(vault: { kind: VaultKind; name: string }, keyName: string): boolean;
  updateKey(vault: { kind: VaultKind; name: string }, keyName: string, version: string | undefined, change: { enabled?: boolean; nbf?: number | null; exp?: number | null }): void;
  assignRole(vault: { kind: VaultKind; name: string }, assignment: RoleAssignment): void;
  removeRoleAssignments(vault: { kind: VaultKind; name: string }, principal: string): void;
  setAccessPolicy(vault: { kind: VaultKind; name: string }, principal: string, keyPermissions: KeyOperation[]): void;
  close(): Promise<void>;
};

const logger = log.child({ component: "dev-azure-kv" });

export async function startDevAzureKv(options: DevAzureKvOptions): Promise<DevAzureKv> {
  const pki = ensureDevAzurePki(`${options.dataDir}/pki`);
  const store = AzureKvStore.open(options.dataDir);
  store.registerApp(DEV_AZURE_CUSTODY_APP);
  const signer = new TokenSigner();
  const faults = new AzureFaults();
  const clock = options.clock ?? Date.now;
  const calls: Record<string, number> = {};
  const domain = DEV_AZURE_DOMAIN;
  const resources = { vault: `https://vault.${domain}`, managedhsm: `https://managedhsm.${domain}` } as const;
  let port = options.port;
  const authority = () => `https://${domain}:${port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "https://placeholder");
    const hostname = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    if (hostname === domain || hostname === "127.0.0.1") {
      const answer = handleEntra({ method: req.method ?? "", path: url.pathname, body }, { origin: authority(), store, signer, audiences: Object.values(resources), now: clock() });
      return send(res, answer.status, answer.body);
    }
    const vaultMatch = /^([a-z0-9-]{3,24})\.(vault|managedhsm)\./.exec(hostname);
    const vault = vaultMatch && hostname === `${vaultMatch[1]}.${vaultMatch[2]}.${domain}` ? store.vault(vaultMatch[2] as VaultKind, vaultMatch[1]!) : undefined;
    // No such vault: Azure's DNS has no name for it, so nothing answers.
    if (!vault) return void res.destroy();
    const context: VaultContext = {
      store,
      signer,
      vault,
      vaultUrl: `https://${hostname}:${port}`,
      resource: resources[vault.kind],
      authority: authority(),
      now: clock(),
    };
    const request = { method: req.method ?? "", path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, body };
    try {
      const caller = authenticate(request, context);
      const operation = /wrapkey$/i.test(url.pathname) ? (/unwrapkey$/i.test(url.pathname) ? "unwrapKey" : "wrapKey") : "get";
      calls[operation] = (calls[operation] ?? 0) + 1;
      await faults.apply();
      send(res, 200, handleVault(request, caller, context));
    } catch (error) {
      if (!(error instanceof KeyVaultError)) throw error;
      const headers: Record<string, string> = { ...error.headers };
      if (error.status === 401) headers["www-authenticate"] = challengeHeader(context);
      send(res, error.status, error.body(), headers);
    }
  }

  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof EntraError) return send(res, error.status, error.body());
      logger.error(errorFields(error), "dev Azure Key Vault could not answer a request");
      send(res, 500, { error: { code: "InternalServerError", message: "The development Key Vault failed." } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `The dev Azure Key Vault could not listen on port ${options.port}: it is already in use` : `The dev Azure Key Vault could not start: ${error.message}`)),
    );
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  port = typeof address === "object" && address ? address.port : options.port;
  const vaultOf = (v: { kind: VaultKind; name: string }): Vault => {
    const found = store.vault(v.kind, v.name);
    if (!found) throw new Error(`The dev Azure Key Vault has no ${v.kind} ${v.name}`);
    return found;
  };
  const urlOf = (v: { kind: VaultKind; name: string }) => `https://${v.name}.${v.kind}.${domain}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    authorityHost: authority(),
    caPem: pki.caPem,
    caPath: pki.caPath,
    vaultDnsSuffix: `vault.${domain}`,
    managedHsmDnsSuffix: `managedhsm.${domain}`,
    port,
    faults,
    calls: () => ({ ...calls }),
    registerApp: (app) => store.registerApp(app),
    setServicePrincipal: (tenantId, clientId, present) => store.setServicePrincipal(tenantId, clientId, present),
    createVault: (input) => {
      store.createVault(input);
      return { url: urlOf(input) };
    },
    createKey: (v, keyName, kty, attributes) => `${urlOf(v)}/keys/${keyName}/${store.createKeyVersion(vaultOf(v), keyName, kty, attributes, clock())}`,
    hasKey: (v, keyName) => (store.vault(v.kind, v.name)?.keys[keyName]?.length ?? 0) > 0,
    updateKey: (v, keyName, version, change) => store.updateKey(vaultOf(v), keyName, version, change, clock()),
    assignRole: (v, assignment) => store.assignRole(vaultOf(v), assignment),
    removeRoleAssignments: (v, principal) => store.removeRoleAssignments(vaultOf(v), principal),
    setAccessPolicy: (v, principal, permissions) => store.setAccessPolicy(vaultOf(v), principal, permissions),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        faults.cancelDelays();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

const MAX_BODY = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new KeyVaultError(413, "RequestEntityTooLarge", "The request body is too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "x-ms-request-id": crypto.randomUUID(), ...headers });
  res.end(text);
}
