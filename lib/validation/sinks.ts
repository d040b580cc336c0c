import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { AUDIT_ACTIONS } from "@/lib/audit/actions";
import { TEXT_LIMITS, tooLongMessage } from "./limits";

// Log sinks (lib/sinks): what a tenant admin submits, shared by the sinks page's forms and the
// data layer. Whether a host is reachable, and whether it is a private address the deployment
// forbids, is decided when sending (lib/sinks/ssrf.ts): a name can resolve differently later.

export const SINK_KINDS = ["webhook", "syslog", "splunk_hec"] as const;
export type SinkKind = (typeof SINK_KINDS)[number];
export const SINK_OUTCOMES = ["success", "denied", "failure"] as const;
export type SinkOutcome = (typeof SINK_OUTCOMES)[number];
const KNOWN_ACTIONS: readonly string[] = Object.values(AUDIT_ACTIONS);

/** What the deployment allows; the data layer passes it (lib/sinks/policy.ts). */
export type SinkInputPolicy = { allowHttp: boolean };

const VISIBLE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
// Lower case, as PostgreSQL prints a uuid: ids are compared and used as audit chains in that form.
const idSchema = z.uuid("That is not a valid id.").transform((id) => id.toLowerCase());

export const sinkNameSchema = z
  .string({ message: "Enter a name for the sink." })
  .trim()
  .min(1, "Enter a name for the sink.")
  .max(TEXT_LIMITS.name, tooLongMessage(TEXT_LIMITS.name))
  .regex(VISIBLE_TEXT, "Use visible characters only (no control or direction-override characters).");

function urlSchema(policy: SinkInputPolicy, example: string) {
  return z
    .string({ message: `Enter a URL such as ${example}.` })
    .trim()
    .min(1, `Enter a URL such as ${example}.`)
    .max(TEXT_LIMITS.url, tooLongMessage(TEXT_LIMITS.url))
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: `That is not a URL; enter one such as ${example}.` });
        return;
      }
      if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) {
        ctx.addIssue({ code: "custom", message: policy.allowHttp ? "Use an http:// or https:// URL." : "Use an https:// URL: events leave Custody encrypted." });
      }
      if (url.username || url.password) ctx.addIssue({ code: "custom", message: "Leave credentials out of the URL." });
      if (url.hash) ctx.addIssue({ code: "custom", message: "Leave the #fragment out of the URL." });
    });
}

/** PEM CA certificate(s); empty means none. Each block must parse as an X.509 certificate. */
const caCertificateSchema = z
  .string()
  .max(65_536, "Use at most 64 KiB of PEM.")
  .optional()
  .nullable()
  .transform((v) => (v?.trim() ? v.trim() : null))
  .superRefine((pem, ctx) => {
    if (pem === null) return;
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0 || pem.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, "").trim() !== "") {
      ctx.addIssue({ code: "custom", message: "Paste PEM certificates only (-----BEGIN CERTIFICATE----- …)." });
      return;
    }
    for (const [i, block] of blocks.entries()) {
      try {
        new X509Certificate(block);
      } catch {
        ctx.addIssue({ code: "custom", message: `Certificate ${i + 1} is not a valid X.509 certificate.` });
      }
    }
  });

// A DNS name (labels of letters, digits, hyphens) or an IP address.
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const hostSchema = z
  .string({ message: "Enter the receiver's host name or IP address." })
  .trim()
  .min(1, "Enter the receiver's host name or IP address.")
  .transform((v) => v.replace(/^\[(.*)\]$/, "$1"))
  .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), "Enter a host name (such as siem.example.com) or an IP address.");

const portSchema = z.coerce
  .number({ message: "Enter a port number." })
  .int("Enter a whole number.")
  .min(1, "Ports are 1 to 65535.")
  .max(65_535, "Ports are 1 to 65535.");

export const webhookSettingsSchema = (policy: SinkInputPolicy) =>
  z.object({ url: urlSchema(policy, "https://siem.example.com/custody"), caCertificate: caCertificateSchema });

export const syslogSettingsSchema = z.object({
  host: hostSchema,
  port: portSchema,
  transport: z.enum(["tcp", "tls"], { message: "Choose TCP or TLS." }),
  caCertificate: caCertificateSchema,
  facility: z.coerce.number({ message: "Facility is a number, 0 to 23." }).int("Facility is a whole number, 0 to 23.").min(0, "Facility is 0 to 23.").max(23, "Facility is 0 to 23.").default(13),
  // RFC 5424 APP-NAME: 1*48PRINTUSASCII (33-126).
  appName: z
    .string()
    .trim()
    .min(1, "Enter an app name.")
    .max(48, "RFC 5424 allows at most 48 characters.")
    .regex(/^[\x21-\x7e]+$/, "Use printable ASCII without spaces (RFC 5424 APP-NAME).")
    .default("custody"),
});

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

export const sinkFilterSchema = z.object({
  /** Only these actions; empty or absent: every action. */
  actions: z
    .array(z.string().refine((a) => KNOWN_ACTIONS.includes(a), { message: "Choose actions from the list." }))
    .max(KNOWN_ACTIONS.length)
    .default([])
    .transform((actions) => [...new Set(actions)].sort()),
  /** Only these outcomes; empty or absent: every outcome. */
  outcomes: z
    .array(z.enum(SINK_OUTCOMES, { message: "Outcomes are success, denied and failure." }))
    .default([])
    .transform((outcomes) => SINK_OUTCOMES.filter((o) => outcomes.includes(o))),
});
export type SinkFilter = z.output<typeof sinkFilterSchema>;

export function createSinkSchema(policy: SinkInputPolicy) {
  const common = { tenantId: idSchema, name: sinkNameSchema, filter: sinkFilterSchema.default({ actions: [], outcomes: [] }) };
  return z.discriminatedUnion(
    "kind",
    [
      // The webhook's signing secret is generated, never entered.
      z.object({ ...common, kind: z.literal("webhook"), settings: webhookSettingsSchema(policy) }),
      z.object({ ...common, kind: z.literal("syslog"), settings: syslogSettingsSchema }),
      z.object({ ...common, kind: z.literal("splunk_hec"), settings: splunkHecSettingsSchema(policy), token: hecTokenSchema }),
    ],
    { message: "Choose webhook, syslog or Splunk HEC." },
  );
}
export type CreateSinkInput = z.input<ReturnType<typeof createSinkSchema>>;
export type ValidCreateSink = z.output<ReturnType<typeof createSinkSchema>>;

/** An edit: the kind stays; settings replace the old ones; a secret changes only when asked. */
export function updateSinkSchema(policy: SinkInputPolicy) {
  const common = { tenantId: idSchema, sinkId: idSchema, name: sinkNameSchema, filter: sinkFilterSchema.default({ actions: [], outcomes: [] }) };
  return z.discriminatedUnion(
    "kind",
    [
      z.object({ ...common, kind: z.literal("webhook"), settings: webhookSettingsSchema(policy), rotateSecret: z.boolean().default(false) }),
      z.object({ ...common, kind: z.literal("syslog"), settings: syslogSettingsSchema }),
      z.object({
        ...common,
        kind: z.literal("splunk_hec"),
        settings: splunkHecSettingsSchema(policy),
        /** Absent or empty: keep the stored token. */
        token: z.preprocess((v) => (v === "" || v === null ? undefined : v), hecTokenSchema.optional()),
      }),
    ],
    { message: "Choose webhook, syslog or Splunk HEC." },
  );
}
export type UpdateSinkInput = z.input<ReturnType<typeof updateSinkSchema>>;
export type ValidUpdateSink = z.output<ReturnType<typeof updateSinkSchema>>;

export const sinkActionSchema = z.object({ tenantId: idSchema, sinkId: idSchema });
