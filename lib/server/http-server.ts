import type http from "node:http";
import next from "next";
import { databaseBelievedReachable } from "@/lib/db/health";
import { DATABASE_UNAVAILABLE_MESSAGE } from "@/lib/db/unavailable";
import { PAGE_SECURITY_HEADERS, strictTransportSecurity } from "@/lib/http/security-headers";
import { stampRequest } from "@/lib/http/stamp-request";
import { errorFields, log } from "@/lib/log";
import { handleHealth } from "./health";
import { createHttpServer, DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "./http-timeouts";
import { routeRequest } from "./route";

export type CustodyServerOptions = {
  port: number;
  /** Interface to listen on; all interfaces when unset. */
  host?: string;
  /** Honour X-Forwarded-For, -Host and -Proto from a load balancer in front of Custody. */
  trustProxy: boolean;
  /** Custody's public URL is https: every response carries Strict-Transport-Security. */
  publicUrlIsHttps?: boolean;
  /** Client timeouts; DEFAULT_HTTP_TIMEOUTS when unset. */
  timeouts?: HttpTimeouts;
  dir?: string;
  /** The key service's handler: /api/v1/* goes here and never enters Next. */
  keyService?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Whether the key service's LISTEN connection is up (part of readiness). */
  keyServiceListening?: () => boolean;
  /** The background jobs' state, for readiness (lib/jobs). */
  jobsStatus?: () => "ok" | "stalled" | "stopped";
};

/**
 * Custody's one HTTP entry point. The key service's /api/v1 requests go straight to its lean
 * handler, so the vendor's hot path never enters Next's pipeline; everything else is Next.
 */
export async function startCustodyServer(options: CustodyServerOptions): Promise<http.Server> {
  const app = next({ dev: false, dir: options.dir ?? process.cwd(), hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const keyService = options.keyService;

  const server = createHttpServer(options.timeouts ?? DEFAULT_HTTP_TIMEOUTS, (req, res) => {
    const requestId = stampRequest(req, res, options.trustProxy);
    const hsts = strictTransportSecurity(req, options);
    if (hsts) res.setHeader("Strict-Transport-Security", hsts);
    const route = routeRequest(req.url ?? "", { keyService: Boolean(keyService), databaseReachable: databaseBelievedReachable() });
    if (route === "health") return handleHealth(req, res, { listener: options.keyServiceListening, jobs: options.jobsStatus });
    if (route === "key-service" && keyService) return keyService(req, res);
    for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) res.setHeader(name, value);
    if (route === "database-unavailable") return databaseUnavailable(req, res);
    handle(req, res).catch((error: unknown) => {
      log.error({ requestId, ...errorFields(error) }, "request failed");
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal Server Error");
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`port ${options.port} is already in use; set PORT to another one`) : error),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}

const UNAVAILABLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>Database unavailable · Custody</title>
<style>body{font-family:system-ui,sans-serif;margin:0;min-height:100dvh;display:flex;align-items:center;justify-content:center;text-align:center;color:#18181b;background:#fff}
@media (prefers-color-scheme:dark){body{color:#fafafa;background:#09090b}}main{max-width:28rem;padding:1rem}p{color:#71717a}</style></head>
<body><main><h1>Custody cannot reach its database</h1>
<p>Nothing is lost: the key service refuses what it cannot record, and this page reloads by itself every few seconds until the database is back.</p></main></body></html>`;

/** 503 with Retry-After: an HTML page for a browser, JSON for anything else (server actions, fetches). */
function databaseUnavailable(req: http.IncomingMessage, res: http.ServerResponse): void {
  const wantsHtml = req.method === "GET" && (req.headers.accept ?? "").includes("text/html") && !req.headers["rsc"];
  const body = wantsHtml
    ? UNAVAILABLE_PAGE
    : JSON.stringify({ error: { code: "unavailable", message: DATABASE_UNAVAILABLE_MESSAGE } });
  res.writeHead(503, {
    "Content-Type": wantsHtml ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Retry-After": "5",
    "Cache-Control": "no-store",
    // Self-contained: no script at all, its one inline stylesheet, never framed.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
