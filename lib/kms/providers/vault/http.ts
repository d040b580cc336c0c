import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

// The one way the Vault provider talks HTTP: a JSON request to <address>/v1/<path> with the
// token and namespace headers, a deadline for the whole exchange, a bounded answer, no
// redirects followed (a redirect would carry the token elsewhere) and, for https, the
// configured CA bundle (else the system's). Vault has no official Node SDK; its HTTP API is
// small and stable.

export type VaultEndpoint = {
  /** https://host:port (http:// only where the configuration allows it; checked by the caller). */
  address: string;
  namespace?: string;
  /** PEM bundle of CAs to trust instead of the system's. */
  caPem?: string;
  timeoutMs: number;
};

export type VaultCall = { method: "GET" | "POST" | "PUT" | "DELETE" | "LIST"; path: string; token?: string; body?: unknown };

/** What came back: the status and the parsed JSON body (undefined when empty or not JSON). */
export type VaultReply = { status: number; json: unknown; isJson: boolean };

/** A failure before any answer: refused, reset, name not resolved, TLS, or the deadline passed. */
export class VaultNetworkError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "VaultNetworkError";
  }
}

const MAX_REPLY_BYTES = 256 * 1024;

export function vaultRequest(endpoint: VaultEndpoint, call: VaultCall): Promise<VaultReply> {
  const url = new URL(`/v1/${call.path.replace(/^\/+/, "")}`, endpoint.address);
  const body = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body), "utf8");
  const headers: Record<string, string> = { accept: "application/json" };
  if (call.token) headers["x-vault-token"] = call.token;
  if (endpoint.namespace) headers["x-vault-namespace"] = endpoint.namespace;
  if (body) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(body.length);
  }
  const secure = url.protocol === "https:";
  return new Promise<VaultReply>((resolve, reject) => {
    let settled = false;
    const fail = (error: VaultNetworkError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    // A connection per request (KMS calls are rare: one per tenant-key lease): no pooled socket
    // outlives a Vault restart or carries one endpoint's TLS settings to another.
    const options = { method: call.method, headers, agent: false, ...(secure ? { ca: endpoint.caPem, rejectUnauthorized: true } : {}) };
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) fail(new VaultNetworkError("EREPLYTOOLARGE", "The answer was too large for a Vault API reply"));
        else chunks.push(chunk);
      });
      res.on("error", () => fail(new VaultNetworkError("ECONNRESET", "The connection broke while Vault answered")));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        let isJson = false;
        try {
          json = text === "" ? undefined : JSON.parse(text);
          isJson = text !== "" && /json/i.test(res.headers["content-type"] ?? "");
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, isJson });
      });
    });
    const timer = setTimeout(() => fail(new VaultNetworkError("ETIMEDOUT", "Vault did not answer in time")), endpoint.timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => fail(new VaultNetworkError(error.code ?? "ENETWORK", "Could not reach Vault")));
    req.end(body);
  });
}
