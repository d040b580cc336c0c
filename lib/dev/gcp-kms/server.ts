import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { errorFields, log } from "@/lib/log";
import { BodyTooLargeError, readBody } from "@/lib/dev/kms/protocol";
import { authenticate, serviceAccountFrom, type ServiceAccount } from "./auth";
import { GoogleApiError, invalidArgument } from "./errors";
import { GcpFaultInjector, type DevGcpKmsFaults } from "./faults";
import { loadResources, saveResources } from "./persist";
import { findRoute } from "./routes";
import { GcpKeyStore } from "./store";

// The development Cloud KMS: an HTTP server speaking Cloud KMS v1's REST API (the transport
// @google-cloud/kms uses with `fallback: "rest"`) for what Custody and a customer's
// administrator use: key rings, crypto keys and their versions (states, primary, scheduled
// destruction), Encrypt/Decrypt with additional authenticated data, and IAM policies per
// key, enforced. Service accounts authenticate with their key files (auth.ts). Custody's GCP
// provider reaches it only through its endpoint setting. Not for production: keys are held in
// memory, and in demo mode also in a local folder, unencrypted (persist.ts).
//
// A request goes: read the body (bounded) → authenticate the Bearer token → find the route
// (routes.ts) → injected faults (faults.ts) → the store decides (store.ts, iam.ts) → proto3
// JSON, or Google's error JSON.

export type DevGcpServiceAccount = { email: string; keyId: string; publicKeyPem: string; projectAdmin?: boolean };

export type DevGcpKmsOptions = {
  /** 0 picks a free port (the endpoint says which). */
  port: number;
  /** Loopback (127.0.0.1) when omitted. */
  host?: string;
  /** The service accounts whose keys the server accepts; a project administrator may do everything. */
  serviceAccounts: readonly DevGcpServiceAccount[];
  /** The clock requests are decided by (epoch ms); Date.now by default. */
  clock?: () => number;
  /** A folder to keep the resources in across restarts (demo mode); in memory only when omitted. */
  dataDir?: string;
};

export type DevGcpKms = {
  /** e.g. http://127.0.0.1:4567: the client's endpoint (host, port and protocol). */
  endpoint: string;
  faults: DevGcpKmsFaults;
  /** Authenticated API requests so far, by method (e.g. { Decrypt: 3 }), faulted ones included. */
  calls(): Record<string, number>;
  close(): Promise<void>;
};

const logger = log.child({ component: "dev-gcp-kms" });

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function jsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    // The REST transport sends an empty message as "".
    if (parsed === "") return {};
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalidArgument("Invalid JSON payload received.");
}

export async function startDevGcpKms(options: DevGcpKmsOptions): Promise<DevGcpKms> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? (() => Date.now());
  const accounts: ServiceAccount[] = options.serviceAccounts.map(serviceAccountFrom);
  const dataDir = options.dataDir;
  const store = new GcpKeyStore(clock, dataDir ? loadResources(dataDir) : undefined);
  const faults = new GcpFaultInjector();
  const calls: Record<string, number> = {};

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dev-gcp-kms");
    const body = await readBody(req);
    const account = authenticate(req.headers.authorization, accounts, clock());
    const { route, match } = findRoute(req.method ?? "GET", url.pathname);
    calls[route.name] = (calls[route.name] ?? 0) + 1;
    await faults.apply();
    const caller = { email: account.email, projectAdmin: account.projectAdmin };
    const result = route.handle(store, caller, match, { method: route.method, params: url.searchParams, body: jsonBody(body) });
    if (dataDir && route.changes) saveResources(dataDir, store.resources());
    send(res, 200, result);
    logger.debug({ method: route.name, caller: account.email }, "dev Cloud KMS request");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const known =
        error instanceof GoogleApiError
          ? error
          : error instanceof BodyTooLargeError
            ? invalidArgument("The request body is too large.")
            : undefined;
      if (!known) logger.error(errorFields(error), "dev Cloud KMS request failed");
      const answer = known ?? new GoogleApiError("INTERNAL", "Internal error encountered.");
      if (!res.headersSent) send(res, answer.httpStatus, answer.body());
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `The dev Cloud KMS could not listen on port ${options.port}: it is already in use` : `The dev Cloud KMS could not start: ${error.message}`)),
    );
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const endpoint = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    faults,
    calls: () => ({ ...calls }),
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
