import "server-only";
import { SINK_KINDS, sendBatchWith } from "../kinds";

export { verifyWebhookSignature } from "./webhook-signature";

/** Sends one batch to one sink of any production kind; throws SinkDeliveryError when not accepted. */
export const sendBatch = sendBatchWith(SINK_KINDS);
