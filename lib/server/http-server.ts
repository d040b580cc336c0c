import type http from "node:http";
import next from "next";
import { PAGE_SECURITY_HEADERS, strictTransportSecurity } from "@/lib/http/security-headers";
import { stampRequest } from "@/lib/http/stamp-request";
import { errorFields, log } from "@/lib/log";
import { createHttpServer, DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "./http-timeouts";

/** The key service's paths: /api/v1 and everything under it. */
const API_PATH = /^\/api\/v1(?:[/?]|$)/;

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
    if (keyService && API_PATH.test(req.url ?? "")) return keyService(req, res);
    for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) res.setHeader(name, value);
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
