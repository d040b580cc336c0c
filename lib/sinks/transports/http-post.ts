import "server-only";
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pinnedLookup, resolveTarget } from "../ssrf";
import { SinkDeliveryError, type TransportOptions } from "../types";
import { abortedError, DEFAULT_TIMEOUT_MS, networkError, timeoutError, withinDeadline } from "./network-error";
import { trustedCas } from "./tls-trust";

// One POST to a tenant-chosen URL, for the webhook and Splunk HEC transports: through the SSRF
// guard, https only (plain http only where the deployment allows it, i.e. development),
// redirects never followed (a 30x could point anywhere, including past the guard), a deadline
// on the whole exchange, and at most REPLY_LIMIT bytes of the reply read.

const REPLY_LIMIT = 64 * 1024;

export const USER_AGENT = "Custody-LogSink/1";

export type HttpReply = { status: number; body: string };

export type PostTarget = {
  url: URL;
  /** "The webhook" / "Splunk HEC", to start messages with. */
  label: string;
  caCertificate?: string | null;
};

/** Parses a configured URL, refusing what Custody will not POST to. */
export function parsePostUrl(raw: string, label: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SinkDeliveryError(`${label} URL is not a valid URL.`, false);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowHttp)) {
    throw new SinkDeliveryError(
      url.protocol === "http:"
        ? `${label} URL must use https: (this deployment does not allow plain http).`
        : `${label} URL must be an https: URL.`,
      false,
    );
  }
  // node:https would drop them silently; say so instead of sending unauthenticated requests.
  if (url.username !== "" || url.password !== "") {
    throw new SinkDeliveryError(`${label} URL must not contain a user name or password.`, false);
  }
  return url;
}

/** "host:port" of a URL, for messages. */
export function whereOf(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** Only Node's own reason phrase: the receiver's status text is not echoed. */
export function statusName(status: number): string {
  const name = STATUS_CODES[status];
  return name ? `${status} ${name}` : String(status);
}

export async function postJson(
  target: PostTarget,
  headers: Record<string, string>,
  body: Buffer,
  options: TransportOptions,
): Promise<HttpReply> {
  const { url } = target;
  const where = whereOf(url);
  const ca = trustedCas(target.caCertificate);
  const started = Date.now();
  const totalMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const resolved = await withinDeadline(resolveTarget(url.hostname, { allowPrivateTargets: options.allowPrivateTargets }), totalMs, where);
  const timeoutMs = Math.max(1, totalMs - (Date.now() - started));
  if (options.signal?.aborted) throw abortedError();

  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    const finish = (error: SinkDeliveryError | null, reply?: HttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      req.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };

    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send({
      protocol: url.protocol,
      hostname: resolved.host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: "POST",
      headers: { "User-Agent": USER_AGENT, ...headers, "Content-Length": String(body.length), Connection: "close" },
      lookup: pinnedLookup(resolved),
      ca,
      rejectUnauthorized: true,
      agent: false,
    });
    // Armed only once the request exists: a synchronous throw above leaves no timer behind to
    // call destroy() on nothing.
    const onAbort = () => finish(abortedError());
    const timer = setTimeout(() => finish(timeoutError(where, totalMs)), timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (error) => finish(networkError(error, where)));
    req.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      res.on("data", (chunk: Buffer) => {
        if (size >= REPLY_LIMIT) return;
        chunks.push(chunk.subarray(0, REPLY_LIMIT - size));
        size += chunk.length;
        // The status is known and enough is read; a receiver cannot hold us with a huge reply.
        if (size >= REPLY_LIMIT) done();
      });
      res.on("end", done);
      res.on("error", (error) => finish(networkError(error, where)));
    });
    req.end(body);
  });
}

/**
 * The common reading of an HTTP status: 2xx accepted (null); 408, 429 and 5xx retryable; a
 * redirect or any other 4xx final, since sending the same batch again gets the same answer.
 */
export function statusError(label: string, status: number): SinkDeliveryError | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) {
    return new SinkDeliveryError(
      `${label} answered with a redirect (${statusName(status)}); Custody does not follow redirects. Set the sink's URL to the final address.`,
      false,
    );
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new SinkDeliveryError(`${label} is not accepting deliveries right now (${statusName(status)}); retrying.`, true);
  }
  if (status === 401 || status === 403) {
    return new SinkDeliveryError(`${label} refused the delivery's credentials (${statusName(status)}).`, false);
  }
  if (status === 413) {
    return new SinkDeliveryError(`${label} refused the batch as too large (${statusName(status)}).`, false, { tooLarge: true });
  }
  if (status >= 400 && status < 500) return new SinkDeliveryError(`${label} refused the delivery (${statusName(status)}).`, false);
  return new SinkDeliveryError(`${label} answered with an unexpected status (${status}).`, true);
}
