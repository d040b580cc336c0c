import "server-only";
import type { WebhookSinkConfig } from "../kinds/webhook";
import type { SinkEvent, TransportOptions } from "../types";
import { parsePostUrl, postJson, statusError } from "./http-post";
import { SIGNATURE_HEADER, signWebhookBody } from "./webhook-signature";

export { SIGNATURE_HEADER, verifyWebhookSignature } from "./webhook-signature";

// A webhook delivery: POST {"events":[…]} (in chain order, each with its `id` for
// deduplication), signed with the sink's secret. Accepted means a 2xx answer.

/** The exact bytes POSTed (and signed) for a batch. */
export function webhookBody(events: SinkEvent[]): Buffer {
  return Buffer.from(JSON.stringify({ events }), "utf8");
}

export async function sendWebhook(config: WebhookSinkConfig, events: SinkEvent[], options: TransportOptions): Promise<void> {
  const label = "The webhook";
  const url = parsePostUrl(config.url, label, options.allowHttp ?? options.allowPrivateTargets);
  const body = webhookBody(events);
  const reply = await postJson(
    { url, label, caCertificate: config.caCertificate },
    {
      "Content-Type": "application/json",
      [SIGNATURE_HEADER]: signWebhookBody(config.secret, body),
    },
    body,
    options,
  );
  const error = statusError(label, reply.status);
  if (error) throw error;
}
