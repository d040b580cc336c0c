import http from "node:http";

/** How long Custody's HTTP servers wait for a client (lib/config: HTTP_*_TIMEOUT_SECONDS). */
export type HttpTimeouts = {
  /** The whole request head must arrive within this. */
  headersTimeoutSeconds: number;
  /** The whole request, head and body, must arrive within this (a response may then take longer: SSE, exports). */
  requestTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this; above a load balancer's idle timeout (60 s on AWS ALB). */
  keepAliveTimeoutSeconds: number;
};

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 65 };

/**
 * A node:http server that does not hold a slow or stalled client for Node's defaults (five
 * minutes for a request, a minute for its head): past the limit the client gets 408 and the
 * connection is closed. Node checks the limits every `connectionsCheckingInterval` (30 s by
 * default), so that is one second here, for limits that mean seconds.
 */
export function createHttpServer(timeouts: HttpTimeouts, listener: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutSeconds * 1000,
      requestTimeout: timeouts.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: 1000,
    },
    listener,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutSeconds * 1000;
  return server;
}

/** The timeouts from parsed configuration. */
export function httpTimeoutsOf(env: {
  HTTP_HEADERS_TIMEOUT_SECONDS: number;
  HTTP_REQUEST_TIMEOUT_SECONDS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: number;
}): HttpTimeouts {
  return {
    headersTimeoutSeconds: env.HTTP_HEADERS_TIMEOUT_SECONDS,
    requestTimeoutSeconds: env.HTTP_REQUEST_TIMEOUT_SECONDS,
    keepAliveTimeoutSeconds: env.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS,
  };
}
