import { z } from "zod";
import type { SinkKindDefinition, SinkInputPolicy } from "./definition";
import { caCertificateField, caCertificateSchema, originOf, requireSecret, urlField, urlSchema } from "./shared";

// Splunk's HTTP Event Collector: events POSTed to /services/collector/event with the HEC token
// the admin enters (lib/sinks/transports/splunk-hec.ts).

export type SplunkHecSinkConfig = {
  kind: "splunk_hec";
  /** The HEC endpoint base, e.g. https://splunk.example:8088 (the collector path is added). */
  url: string;
  token: string;
  index: string | null;
  sourcetype: string;
  /** PEM CA certificate(s) to trust for HTTPS (Splunk's default HEC certificate is self-signed); absent/null: system only. */
  caCertificate?: string | null;
};

export const splunkHecSettingsSchema = (policy: SinkInputPolicy) =>
  z.object({
    url: urlSchema(policy, "https://splunk.example.com:8088"),
    caCertificate: caCertificateSchema,
    // Splunk index names: lower-case letters, digits, _ and -, not starting with _ or -.
    index: z
      .string()
      .trim()
      .max(80, "Splunk index names are at most 80 characters.")
      .optional()
      .nullable()
      .transform((v) => (v ? v : null))
      .refine((v) => v === null || /^[a-z0-9][a-z0-9_-]*$/.test(v), "Use lower-case letters, digits, _ and - (not first) for the index."),
    sourcetype: z
      .string()
      .trim()
      .min(1, "Enter a sourcetype.")
      .max(100, "Use at most 100 characters.")
      .regex(/^[A-Za-z0-9_.:-]+$/, "Use letters, digits, _ . : and - for the sourcetype.")
      .default("custody:audit"),
  });

/** A HEC token as entered; Splunk's are GUIDs, but any visible token up to 256 characters is taken. */
export const hecTokenSchema = z
  .string({ message: "Enter the HEC token." })
  .trim()
  .min(1, "Enter the HEC token.")
  .max(256, "That is too long to be a HEC token.")
  .regex(/^[\x21-\x7e]*$/, "A HEC token has no spaces or special characters.");

type SplunkHecSettings = z.output<ReturnType<typeof splunkHecSettingsSchema>>;

export const splunkHecKind = {
  label: "Splunk HEC",
  settings: splunkHecSettingsSchema,
  secret: { type: "entered", field: "token", schema: hecTokenSchema },
  fields: [
    urlField(
      "HEC URL",
      "https://splunk.example.com:8088",
      "The HEC endpoint's base, e.g. https://splunk.example.com:8088 (Custody adds /services/collector/event).",
    ),
    { name: "token", label: "HEC token", control: "password", hint: "Stored encrypted; never shown again.", editHint: "Leave empty to keep the current token." },
    { name: "index", label: "Index (optional)", control: "text", hint: "Empty: the token's default index." },
    { name: "sourcetype", label: "Sourcetype", control: "text", initial: "custody:audit", emptyIsAbsent: true },
    caCertificateField,
  ],
  destination: (s) => originOf(s.url) ?? "",
  target: (s) => originOf(s.url) ?? "—",
  configOf: (s, secret) => ({ kind: "splunk_hec", url: s.url, token: requireSecret(secret), index: s.index, sourcetype: s.sourcetype, caCertificate: s.caCertificate }),
  send: async (config, events, options) => (await import("../transports/splunk-hec")).sendSplunkHec(config, events, options),
} satisfies SinkKindDefinition<SplunkHecSettings, SplunkHecSinkConfig>;
