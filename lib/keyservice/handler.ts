import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { noteDatabaseError } from "@/lib/db/health";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/lib/db/unavailable";
import { parseServiceToken } from "@/lib/credentials/token";
import { AppError, ERROR_STATUS, GENERIC_MESSAGE, isAppError } from "@/lib/errors";
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER, type RequestMeta } from "@/lib/http/request-meta";
import { API_SECURITY_HEADERS } from "@/lib/http/security-headers";
import { errorFields, log } from "@/lib/log";
import {
  batchRekeyRequestSchema,
  batchUnwrapRequestSchema,
  batchWrapRequestSchema,
  MAX_BODY_BYTES,
  rekeyRequestSchema,
  unwrapRequestSchema,
  wrapRequestSchema,
} from "@/lib/validation/keyservice";
import type { AuthFailureLimiter } from "./auth-limiter";
import type { KeyService, ServiceCall } from "./key-service";
import openApiDocument from "./openapi.json";

// The key service's HTTP face: plain node:http, no framework, because it sits on the vendor's
// hot path (see ARCHITECTURE.md). Authenticate, read and validate the body, call KeyService,
// answer JSON. Every error is `{ error: { code, message } }`; the database being unreachable
// (a restart, a failover) is `unavailable` (503, Retry-After), which the SDK retries; anything
// else unexpected is logged and answered with a generic 500.

export const API_PREFIX = "/api/v1/";

type Route = { schema: z.ZodType; run(service: KeyService, call: ServiceCall, input: never): Promise<unknown> };

const ROUTES: Record<string, Route> = {
  wrap: { schema: wrapRequestSchema, run: (s, c, i) => s.wrap(c, i) },
  unwrap: { schema: unwrapRequestSchema, run: (s, c, i) => s.unwrap(c, i) },
  rekey: { schema: rekeyRequestSchema, run: (s, c, i) => s.rekey(c, i) },
  "batch-wrap": { schema: batchWrapRequestSchema, run: (s, c, i) => s.batchWrap(c, i) },
  "batch-unwrap": { schema: batchUnwrapRequestSchema, run: (s, c, i) => s.batchUnwrap(c, i) },
  "batch-rekey": { schema: batchRekeyRequestSchema, run: (s, c, i) => s.batchRekey(c, i) },
};

const OPENAPI_BODY = JSON.stringify(openApiDocument);
const CHALLENGE = 'Bearer realm="custody"';
const logger = log.child({ component: "key-service" });

export function createKeyServiceHandler(
  service: KeyService,
  options: { authLimiter?: AuthFailureLimiter } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(service, req, res, options.authLimiter).catch((error: unknown) => {
      const unavailable = isDatabaseUnavailable(error);
      if (unavailable) noteDatabaseError(error);
      else logger.error({ requestId: req.headers[REQUEST_ID_HEADER], ...errorFields(error) }, "key-service request failed");
      if (res.headersSent) res.destroy();
      else sendError(res, unavailable ? new AppError("unavailable", DATABASE_UNAVAILABLE_MESSAGE) : new AppError("internal", GENERIC_MESSAGE));
    });
  };
}

async function handle(service: KeyService, req: IncomingMessage, res: ServerResponse, limiter?: AuthFailureLimiter): Promise<void> {
  const path = (req.url ?? "/").split("?", 1)[0]!;
  const name = path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : "";

  if (name === "openapi.json" || name === "health") {
    if (req.method !== "GET" && req.method !== "HEAD") return sendError(res, methodNotAllowed("GET"), { Allow: "GET, HEAD" });
    if (name === "openapi.json") return send(res, 200, OPENAPI_BODY, { "Cache-Control": "public, max-age=300" });
    const healthy = service.listening;
    return send(res, healthy ? 200 : 503, JSON.stringify({ status: healthy ? "ok" : "degraded" }));
  }

  const route = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined;
  if (!route) return sendError(res, new AppError("not_found", "No such endpoint. See /api/v1/openapi.json."));
  if (req.method !== "POST") return sendError(res, methodNotAllowed("POST"), { Allow: "POST" });

  // Failed authentications are rate-limited (auth-limiter.ts): an address over its limit is
  // refused before its token is looked up.
  const blocked = limiter ? await limiter.blockedFor(requestMeta(req).sourceIp ?? "unknown") : 0;
  if (blocked) return refuseRateLimited(req, res, blocked);
  const credential = await authenticate(service, req);
  if (!credential) {
    const wait = limiter ? await limiter.failed(requestMeta(req), credentialIdOf(req)) : 0;
    if (wait) return refuseRateLimited(req, res, wait);
    req.resume();
    return sendError(res, new AppError("unauthenticated", "Send a valid service credential: Authorization: Bearer csk_…"));
  }

  let body: unknown;
  try {
    body = await readJson(req);
  } catch (error) {
    if (isAppError(error)) return sendError(res, error, error.code === "payload_too_large" ? { Connection: "close" } : {});
    throw error;
  }
  const parsed = route.schema.safeParse(body);
  if (!parsed.success) return sendError(res, new AppError("bad_request", describeIssues(parsed.error)));

  const call: ServiceCall = { credential, request: requestMeta(req) };
  try {
    const result = await route.run(service, call, parsed.data as never);
    send(res, 200, JSON.stringify(result));
  } catch (error) {
    if (!isAppError(error)) throw error;
    sendError(res, error);
  }
}

async function authenticate(service: KeyService, req: IncomingMessage) {
  // The scheme is case-insensitive (RFC 9110).
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return match ? service.authenticate(match[1]!) : null;
}

function credentialIdOf(req: IncomingMessage): string | null {
  const token = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  return token ? (parseServiceToken(token)?.id ?? null) : null;
}

function refuseRateLimited(req: IncomingMessage, res: ServerResponse, seconds: number): void {
  req.resume();
  sendError(res, new AppError("rate_limited", `Too many failed authentications. Retry in ${seconds} s.`), { "Retry-After": String(seconds) });
}

function requestMeta(req: IncomingMessage): RequestMeta {
  const ip = req.headers[CLIENT_IP_HEADER];
  const id = req.headers[REQUEST_ID_HEADER];
  return {
    sourceIp: typeof ip === "string" ? ip : null,
    userAgent: req.headers["user-agent"]?.slice(0, 512) ?? null,
    requestId: typeof id === "string" ? id : null,
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    req.resume();
    return Promise.reject(new AppError("bad_request", "Send a JSON body with Content-Type: application/json."));
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString("utf8")));
      } catch {
        reject(new AppError("bad_request", "The body is not valid JSON."));
      }
    });
    req.on("error", () => reject(new AppError("bad_request", "The request body could not be read.")));
  });
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.join(".");
      const name = String(issue.path.at(-1) ?? "");
      if (issue.code === "unrecognized_keys") return `${path ? `${path}: ` : ""}unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
      // Messages that name their field ("dataLabel must …") get the full path instead of a prefix.
      if (name && issue.message.startsWith(`${name} `)) return `${path}${issue.message.slice(name.length)}`;
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

const tooLarge = () => new AppError("payload_too_large", "The request body is larger than 1 MiB; split the batch.");
const methodNotAllowed = (allowed: string) => new AppError("bad_request", `Use ${allowed} for this endpoint.`);

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    // Answers carry data keys: no cache, anywhere.
    "Cache-Control": "no-store",
    ...API_SECURITY_HEADERS,
    ...headers,
  });
  res.end(body);
}

function sendError(res: ServerResponse, error: AppError, headers: Record<string, string> = {}): void {
  const retry: Record<string, string> = ERROR_STATUS[error.code] === 503 ? { "Retry-After": "1" } : {};
  // Also a credential found revoked when its use committed (call-context.ts).
  const challenge: Record<string, string> = error.code === "unauthenticated" ? { "WWW-Authenticate": CHALLENGE } : {};
  send(res, error.status, JSON.stringify({ error: { code: error.code, message: error.message } }), { ...retry, ...challenge, ...headers });
}
