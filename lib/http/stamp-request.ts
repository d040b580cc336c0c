import { randomUUID } from "node:crypto";
import type http from "node:http";
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from "./request-meta";

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

/** What a load balancer tells the server about the original request; a client may send them too. */
const FORWARDING_HEADERS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-for", "forwarded"];

/**
 * Stamps a request with a request id and the client's address (headers a client cannot forge:
 * any it sent are replaced), which the audit trail records. Returns the request id.
 */
export function stampRequest(req: http.IncomingMessage, res: http.ServerResponse, trustProxy: boolean): string {
  // Without a trusted proxy in front, forwarding headers can only come from the client: drop
  // them, so the same-origin checks (crossSite(), Next's server-action Origin check) compare
  // with the Host the request was sent to, and HSTS follows the real connection. Next then
  // fills in x-forwarded-host and -proto from Host and the socket itself.
  if (!trustProxy) for (const name of FORWARDING_HEADERS) delete req.headers[name];
  // A request id from the load balancer is kept (so logs correlate); a client's own is not trusted.
  const incoming = trustProxy ? req.headers[REQUEST_ID_HEADER] : undefined;
  const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.headers[REQUEST_ID_HEADER] = requestId;
  req.headers[CLIENT_IP_HEADER] = clientIp(req, trustProxy);
  res.setHeader("X-Request-Id", requestId);
  return requestId;
}
