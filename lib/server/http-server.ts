import { randomUUID } from "node:crypto";
import http from "node:http";
import next from "next";
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from "@/lib/http/request-meta";
import { errorFields, log } from "@/lib/log";

export type CustodyServerOptions = {
  port: number;
  /** Interface to listen on; all interfaces when unset. */
  host?: string;
  /** Honour X-Forwarded-For from a load balancer in front of Custody. */
  trustProxy: boolean;
  dir?: string;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * The client's address: the socket's, or, behind a trusted load balancer, the address that
 * load balancer appended to X-Forwarded-For (the last entry; earlier ones are whatever the
 * client claimed).
 */
function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const last = (Array.isArray(forwarded) ? forwarded.join(",") : forwarded)?.split(",").at(-1)?.trim();
    if (last) return last;
  }
  return (req.socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
}

/**
 * Custody's one HTTP entry point, in front of Next. It stamps every request with a request id
 * and the client's address (headers a client cannot forge: any it sent are replaced), which the
 * audit trail records. The key service's lean /api/v1 handler will be routed here too, so the
 * hot path never enters Next's pipeline.
 */
export async function startCustodyServer(options: CustodyServerOptions): Promise<http.Server> {
  const app = next({ dev: false, dir: options.dir ?? process.cwd(), hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();

  const server = http.createServer((req, res) => {
    // A request id from the load balancer is kept (so logs correlate); a client's own is not trusted.
    const incoming = options.trustProxy ? req.headers[REQUEST_ID_HEADER] : undefined;
    const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.headers[REQUEST_ID_HEADER] = requestId;
    req.headers[CLIENT_IP_HEADER] = clientIp(req, options.trustProxy);
    res.setHeader("X-Request-Id", requestId);
    handle(req, res).catch((error: unknown) => {
      log.error({ requestId, ...errorFields(error) }, "request failed");
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal Server Error");
      }
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`port ${options.port} is already in use; set PORT to another one`) : error),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
