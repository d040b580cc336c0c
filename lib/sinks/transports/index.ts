import "server-only";
import { SinkDeliveryError, type SinkTransport } from "../types";
import { sendSplunkHec } from "./splunk-hec";
import { sendSyslog } from "./syslog";
import { sendWebhook } from "./webhook";

export { verifyWebhookSignature } from "./webhook-signature";

/** Sends one batch to one sink of any kind; throws SinkDeliveryError when not accepted. */
export const sendBatch: SinkTransport = async (config, events, options) => {
  if (events.length === 0) return;
  switch (config.kind) {
    case "webhook":
      return sendWebhook(config, events, options);
    case "syslog":
      return sendSyslog(config, events, options);
    case "splunk_hec":
      return sendSplunkHec(config, events, options);
    default:
      // A row written by a newer version, or a damaged one: retrying cannot help.
      throw new SinkDeliveryError(`Unknown sink kind "${String((config as { kind: unknown }).kind).slice(0, 32)}".`, false);
  }
};
