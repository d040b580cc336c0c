import { z } from "zod";
import type { SinkKindDefinition } from "./definition";
import { caCertificateField, caCertificateSchema, hostSchema, portSchema } from "./shared";

// Syslog: RFC 5424 messages over TCP or TLS with octet-counting framing
// (lib/sinks/transports/syslog.ts). No secret.

export type SyslogSinkConfig = {
  kind: "syslog";
  host: string;
  port: number;
  transport: "tcp" | "tls";
  /** PEM CA certificate(s) to trust for TLS, in addition to the system's; null: system only. */
  caCertificate: string | null;
  /** RFC 5424 facility number, 0–23 (default 13, log audit). */
  facility: number;
  /** RFC 5424 APP-NAME (printable US-ASCII, at most 48). */
  appName: string;
};

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

type SyslogSettings = z.output<typeof syslogSettingsSchema>;

export const syslogKind = {
  label: "Syslog",
  settings: () => syslogSettingsSchema,
  secret: { type: "none" },
  fields: [
    { name: "host", label: "Host", control: "text", hint: "Host name or IP address of the syslog receiver.", placeholder: "siem.example.com" },
    { name: "port", label: "Port", control: "numeric", initial: "6514" },
    {
      name: "transport",
      label: "Transport",
      control: "select",
      hint: "RFC 5424 with octet-counting framing.",
      initial: "tls",
      options: [
        { value: "tls", label: "TLS" },
        { value: "tcp", label: "TCP (unencrypted)" },
      ],
    },
    { name: "facility", label: "Facility", control: "numeric", hint: "0 to 23; 13 is log audit.", initial: "13", emptyIsAbsent: true },
    { name: "appName", label: "App name", control: "text", hint: "RFC 5424 APP-NAME.", initial: "custody", emptyIsAbsent: true },
    caCertificateField,
  ],
  destination: (s) => `${s.transport}://${s.host}:${s.port}`,
  target: (s) => `${s.host}:${s.port} (${s.transport === "tcp" ? "TCP" : "TLS"})`,
  configOf: (s) => ({ kind: "syslog", host: s.host, port: s.port, transport: s.transport, caCertificate: s.caCertificate, facility: s.facility, appName: s.appName }),
  send: async (config, events, options) => (await import("../transports/syslog")).sendSyslog(config, events, options),
} satisfies SinkKindDefinition<SyslogSettings, SyslogSinkConfig>;
