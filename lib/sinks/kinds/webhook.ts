import { z } from "zod";
import { newWebhookSecret } from "../secrets";
import type { SinkKindDefinition, SinkInputPolicy } from "./definition";
import { caCertificateField, caCertificateSchema, originOf, requireSecret, urlField, urlSchema } from "./shared";

// A signed webhook: Custody POSTs JSON batches, signed (HMAC) with a secret it generates
// (lib/sinks/transports/webhook.ts).

export type WebhookSinkConfig = {
  kind: "webhook";
  url: string;
  secret: string;
  /** PEM CA certificate(s) to trust for HTTPS, in addition to the system's; absent/null: system only. */
  caCertificate?: string | null;
};

export const webhookSettingsSchema = (policy: SinkInputPolicy) =>
  z.object({ url: urlSchema(policy, "https://siem.example.com/custody"), caCertificate: caCertificateSchema });

type WebhookSettings = z.output<ReturnType<typeof webhookSettingsSchema>>;

export const webhookKind = {
  label: "Webhook",
  settings: webhookSettingsSchema,
  // The signing secret is generated, never entered.
  secret: {
    type: "generated",
    generate: newWebhookSecret,
    rotateLabel: "Rotate the signing secret (the new one is shown once; deliveries are signed with it at once)",
  },
  fields: [
    urlField("HTTPS URL", "https://siem.example.com/custody", "Custody POSTs signed JSON batches here."),
    caCertificateField,
  ],
  destination: (s) => originOf(s.url) ?? "",
  target: (s) => originOf(s.url) ?? "—",
  configOf: (s, secret) => ({ kind: "webhook", url: s.url, secret: requireSecret(secret), caCertificate: s.caCertificate }),
  send: async (config, events, options) => (await import("../transports/webhook")).sendWebhook(config, events, options),
} satisfies SinkKindDefinition<WebhookSettings, WebhookSinkConfig>;
