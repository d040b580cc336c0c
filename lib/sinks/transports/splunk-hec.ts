import "server-only";
import { hostname } from "node:os";
import type { SplunkHecSinkConfig } from "../kinds/splunk-hec";
import { SinkDeliveryError, type SinkEvent, type TransportOptions } from "../types";
import { parsePostUrl, postJson, statusError, statusName } from "./http-post";

// Splunk HTTP Event Collector: POST <base>/services/collector/event with
// `Authorization: Splunk <token>` and the batch as concatenated JSON event objects. Splunk
// answers {"text":"Success","code":0}; any other code is an error, read by its code (the
// reply's text is not echoed). Indexer acknowledgement is not used: "accepted" means HEC
// accepted the batch, as for any HEC client that does not poll /services/collector/ack.

/** The collector endpoint for a configured base URL (a pasted full endpoint is kept as is). */
export function collectorUrl(base: URL): URL {
  const url = new URL(base.href);
  const path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith("/services/collector/event")) url.pathname = path;
  else if (path.endsWith("/services/collector")) url.pathname = `${path}/event`;
  else url.pathname = `${path}/services/collector/event`;
  return url;
}

/** HEC's batch body: one JSON object per event, newline-separated. */
export function hecBody(events: SinkEvent[], config: Pick<SplunkHecSinkConfig, "index" | "sourcetype">, host: string = hostname()): Buffer {
  const lines = events.map((event) => {
    const ms = Date.parse(event.occurredAt);
    return JSON.stringify({
      // Epoch seconds with milliseconds; omitted if unreadable (Splunk then uses arrival time).
      ...(Number.isFinite(ms) ? { time: ms / 1000 } : {}),
      host,
      source: "custody",
      sourcetype: config.sourcetype,
      ...(config.index ? { index: config.index } : {}),
      event,
    });
  });
  return Buffer.from(lines.join("\n"), "utf8");
}

type HecMeaning = { message: string; retryable: boolean };

// https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector
function hecMeaning(code: number, config: SplunkHecSinkConfig): HecMeaning | null {
  switch (code) {
    case 1:
      return { message: "Splunk HEC refused the token: it is disabled (code 1).", retryable: false };
    case 2:
    case 3:
    case 4:
      return { message: `Splunk HEC refused the token (code ${code}): check the sink's token.`, retryable: false };
    case 5:
    case 6:
    case 12:
    case 13:
    case 15:
      return { message: `Splunk HEC refused the events' format (code ${code}).`, retryable: false };
    case 7:
      return {
        message: `Splunk HEC refused the index${config.index ? ` "${config.index}"` : ""} (code 7): it does not exist or the token may not write to it.`,
        retryable: false,
      };
    case 8:
      return { message: "Splunk HEC had an internal error (code 8); retrying.", retryable: true };
    case 9:
      return { message: "Splunk HEC is busy (code 9); retrying.", retryable: true };
    case 10:
    case 11:
      return {
        message: `Splunk HEC wants a data channel (code ${code}): the token has indexer acknowledgement enabled, which Custody does not use. Turn it off for this token.`,
        retryable: false,
      };
    case 18:
    case 19:
    case 20:
      return { message: `Splunk HEC is unhealthy (code ${code}); retrying.`, retryable: true };
    default:
      return null;
  }
}

function parseReply(body: string): { code: number } | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { code?: unknown }).code === "number") {
      return { code: (parsed as { code: number }).code };
    }
  } catch {
    // Not JSON: judged by the HTTP status below.
  }
  return null;
}

export async function sendSplunkHec(config: SplunkHecSinkConfig, events: SinkEvent[], options: TransportOptions): Promise<void> {
  const label = "Splunk HEC";
  const url = collectorUrl(parsePostUrl(config.url, label, options.allowHttp ?? options.allowPrivateTargets));
  const body = hecBody(events, config);
  const reply = await postJson(
    { url, label, caCertificate: config.caCertificate },
    { "Content-Type": "application/json", Authorization: `Splunk ${config.token}` },
    body,
    options,
  );
  const parsed = parseReply(reply.body);
  if (reply.status >= 200 && reply.status < 300) {
    if (parsed?.code === 0) return;
    // A 2xx that is not HEC's success reply: a proxy's page, or not Splunk at all.
    throw new SinkDeliveryError(
      parsed === null
        ? `${label} answered ${statusName(reply.status)} but not as a Splunk HTTP Event Collector; check the sink's URL.`
        : `${label} answered ${statusName(reply.status)} with code ${parsed.code} instead of success.`,
      false,
    );
  }
  const meaning = parsed === null ? null : hecMeaning(parsed.code, config);
  if (meaning) throw new SinkDeliveryError(meaning.message, meaning.retryable);
  throw statusError(label, reply.status) ?? new SinkDeliveryError(`${label} answered ${statusName(reply.status)}.`, true);
}
