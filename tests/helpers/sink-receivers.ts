import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TestPki } from "./test-pki";

// Local HTTPS receivers for the log-sink transports' tests: real TLS servers (certificates from
// a test CA), recording every request as received (path, headers, raw body).

export type ReceivedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: Buffer };
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export type HttpsReceiver = {
  port: number;
  requests: ReceivedRequest[];
  stop: () => Promise<void>;
};

export async function startHttpsReceiver(pki: TestPki, reply: (request: ReceivedRequest) => Reply): Promise<HttpsReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const answer = reply(request);
      if (answer === "hang") return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Reads a body of concatenated JSON objects (HEC's batch format: objects back to back,
 * optionally separated by whitespace), as Splunk does. Throws on anything else.
 */
export function parseConcatenatedJson(text: string): unknown[] {
  const values: unknown[] = [];
  let at = 0;
  while (at < text.length) {
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (at >= text.length) break;
    if (text[at] !== "{") throw new Error(`expected an object at ${at}`);
    let depth = 0;
    let inString = false;
    let end = at;
    for (; end < text.length; end++) {
      const c = text[end];
      if (inString) {
        if (c === "\\") end++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    values.push(JSON.parse(text.slice(at, end + 1)));
    at = end + 1;
  }
  return values;
}

export type HecState = { token: string; indexes: string[]; busy: boolean };

/** Splunk's HTTP Event Collector contract, as far as a sender sees it (/services/collector/event). */
export function hecReply(state: HecState) {
  return (request: ReceivedRequest): Reply => {
    const json = (status: number, text: string, code: number): Reply => ({
      status,
      headers: { "Content-Type": "application/json; charset=UTF-8" },
      body: JSON.stringify({ text, code }),
    });
    if (request.method !== "POST" || request.path !== "/services/collector/event") return { status: 404, body: "Not Found" };
    const authorization = request.headers.authorization;
    if (authorization === undefined) return json(401, "Token is required", 2);
    const match = /^Splunk (\S+)$/.exec(authorization);
    if (!match) return json(401, "Invalid authorization", 3);
    if (match[1] !== state.token) return json(403, "Invalid token", 4);
    if (state.busy) return json(503, "Server is busy", 9);
    let events: unknown[];
    try {
      events = parseConcatenatedJson(request.body.toString("utf8"));
    } catch {
      return json(400, "Invalid data format", 6);
    }
    if (events.length === 0) return json(400, "No data", 5);
    for (const event of events as Array<Record<string, unknown>>) {
      if (!("event" in event)) return json(400, "Event field is required", 12);
      if (event.event === "" || event.event === null) return json(400, "Event field cannot be blank", 13);
      if ("time" in event && typeof event.time !== "number") return json(400, "Invalid data format", 6);
      if (typeof event.index === "string" && !state.indexes.includes(event.index)) return json(400, "Incorrect index", 7);
    }
    return json(200, "Success", 0);
  };
}
