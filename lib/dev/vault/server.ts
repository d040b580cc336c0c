import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import path from "node:path";
import { errorFields, log } from "@/lib/log";
import { BodyTooLargeError, readBody } from "@/lib/dev/kms/protocol";
import { ensureLocalCa } from "@/lib/dev/pki/local-ca";
import { badRequest, sealed, VaultHttpError } from "./errors";
import { VaultFaultInjector, type DevVaultFaults } from "./faults";
import { handleApi, type Method } from "./routes";
import { VaultStore } from "./store";
import { hashSecret, issueToken, newTokenValue } from "./tokens";
import { writeSecretFile } from "./secret-file";

// The development Vault: an HTTPS server speaking enough of HashiCorp Vault's (and OpenBao's)
// HTTP API for Custody's Vault provider and a customer's set-up — sys/health and
// sys/seal-status, token auth and AppRole, ACL policies (an HCL subset, enforced), namespaces,
// and the transit engine (keys with versions, rotation, min_decryption_version, derived keys,
// associated data). Custody's provider reaches it by address and CA only. TLS comes from a
// local CA made in the data folder (lib/dev/pki). Not for production: key material is kept
// in a local folder, encrypted under a master key kept beside it.
//
// A request goes: read the body (bounded) → health and seal status, answered even when sealed →
// sealed? 503 → injected faults → the API (routes.ts: token, ACL, handler) → Vault's JSON.

export type DevVaultOptions = {
  /** Port to listen on; 0 picks a free one (the address says which). */
  port: number;
  /** Interface; loopback by default (the root token is printed and kept in the data folder). */
  host?: string;
  /** Folder for the encrypted store, its master key, the root token and the TLS files. */
  dataDir: string;
  /** The clock requests are decided by (epoch ms); Date.now by default. */
  clock?: () => number;
};

export type DevVault = {
  /** e.g. https://127.0.0.1:8200: the Vault address. */
  address: string;
  /** PEM of the CA that issued the server's certificate. */
  caPem: string;
  caPath: string;
  /** A root token (all capabilities), made on first start and kept in <dataDir>/root-token. */
  rootToken: string;
  faults: DevVaultFaults;
  seal(): void;
  unseal(): void;
  /** Requests received so far, by path (e.g. { "transit/decrypt/acme": 2 }). */
  calls(): Record<string, number>;
  close(): Promise<void>;
};

export type { DevVaultFaults } from "./faults";

const logger = log.child({ component: "dev-vault" });
const VERSION = "1.15.0+custody-dev";

export async function startDevVault(options: DevVaultOptions): Promise<DevVault> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error("The dev Vault port must be 0-65535");
  const host = options.host ?? "127.0.0.1";
  const dataDir = path.resolve(options.dataDir);
  const store = VaultStore.open(dataDir);
  const tls = ensureLocalCa(path.join(dataDir, "tls"));
  const rootToken = ensureRootToken(store, dataDir);
  const clock = options.clock ?? Date.now;
  const faults = new VaultFaultInjector();
  const calls: Record<string, number> = {};
  const clusterId = randomUUID();
  let isSealed = false;
  let closing = false;

  const health = () => ({
    initialized: true,
    sealed: isSealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: "disabled",
    replication_dr_mode: "disabled",
    server_time_utc: Math.floor(clock() / 1000),
    version: VERSION,
    cluster_name: "custody-dev-vault",
    cluster_id: clusterId,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://vault.invalid");
    try {
      const body = await readBody(req);
      if (!url.pathname.startsWith("/v1/")) throw new VaultHttpError(404, []);
      const apiPath = url.pathname.slice(4).replace(/\/+$/, "");
      if (apiPath === "sys/health") return send(res, isSealed ? 503 : 200, health());
      if (apiPath === "sys/seal-status") {
        return send(res, 200, { type: "shamir", initialized: true, sealed: isSealed, t: 1, n: 1, progress: 0, nonce: "", version: VERSION, migration: false, cluster_name: "custody-dev-vault", cluster_id: clusterId, recovery_seal: false, storage_type: "file" });
      }
      if (isSealed) throw sealed();
      calls[apiPath] = (calls[apiPath] ?? 0) + 1;
      await faults.apply(apiPath);
      if (closing) return void res.destroy();
      const result = handleApi(store, {
        method: methodOf(req.method, url),
        path: apiPath,
        namespace: namespaceOf(req.headers["x-vault-namespace"]),
        token: tokenOf(req),
        body: parseBody(body),
        now: clock(),
      });
      send(res, result.status, result.body);
    } catch (error) {
      const vaultError = error instanceof VaultHttpError ? error : error instanceof BodyTooLargeError ? new VaultHttpError(413, ["request body too large"]) : undefined;
      if (vaultError) {
        logger.debug({ path: url.pathname, status: vaultError.status }, "dev Vault request refused");
        send(res, vaultError.status, { errors: vaultError.errors });
      } else {
        logger.error({ path: url.pathname, ...errorFields(error) }, "dev Vault request failed");
        send(res, 500, { errors: ["internal error"] });
      }
    }
  }

  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error(errorFields(error), "dev Vault could not answer a request");
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `The dev Vault could not listen on port ${options.port}: it is already in use` : `The dev Vault could not start: ${error.message}`)),
    );
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  let closed: Promise<void> | undefined;
  return {
    address: `https://${host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`,
    caPem: tls.caPem,
    caPath: tls.caPath,
    rootToken,
    faults,
    seal: () => void (isSealed = true),
    unseal: () => void (isSealed = false),
    calls: () => ({ ...calls }),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        faults.cancelDelays();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The root token in <dataDir>/root-token, made (and registered in the store) on first start. */
function ensureRootToken(store: VaultStore, dataDir: string): string {
  const file = path.join(dataDir, "root-token");
  let value: string | undefined;
  try {
    value = readFileSync(file, "utf8").trim();
  } catch {
    value = undefined;
  }
  if (value && store.state.namespaces[""]?.tokens[hashSecret(value)]) return value;
  const token = newTokenValue();
  store.mutate((draft) => issueToken(draft.namespaces[""]!, { policies: ["root"], createdAt: Date.now(), ttl: 0, displayName: "root", path: "auth/token/root", meta: null }, token));
  writeSecretFile(file, `${token}\n`);
  return token;
}

function methodOf(method: string | undefined, url: URL): Method {
  switch (method) {
    case "GET":
      return url.searchParams.get("list") === "true" ? "LIST" : "GET";
    case "LIST":
      return "LIST";
    case "POST":
    case "PUT":
      return "WRITE";
    case "DELETE":
      return "DELETE";
    default:
      throw new VaultHttpError(405, ["unsupported operation"]);
  }
}

function namespaceOf(header: string | string[] | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header)?.trim().replace(/^\/+|\/+$/g, "") ?? "";
  return value === "root" ? "" : value;
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers["x-vault-token"];
  if (typeof header === "string" && header !== "") return header;
  const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "");
  return bearer?.[1];
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw badRequest("failed to parse JSON input");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("failed to parse JSON input: not an object");
  return value as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown> | undefined): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
