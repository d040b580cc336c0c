import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { SinkDeliveryError } from "../types";
import type { SinkFormField, SinkInputPolicy } from "./definition";
import { TEXT_LIMITS, tooLongMessage } from "@/lib/validation/limits";

// The pieces several kinds share: setting schemas (URL, host, port, CA certificate), their form
// fields, and how a URL sink names its destination. Whether a host is reachable, and whether it
// is a private address the deployment forbids, is decided when sending (lib/sinks/ssrf.ts): a
// name can resolve differently later.

export function urlSchema(policy: SinkInputPolicy, example: string) {
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

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** PEM CA certificate(s); empty means none. Each block must parse as an X.509 certificate. */
export const caCertificateSchema = z
  .string()
  .max(65_536, "Use at most 64 KiB of PEM.")
  .optional()
  .nullable()
  .transform((v) => (v?.trim() ? v.trim() : null))
  .superRefine((pem, ctx) => {
    if (pem === null) return;
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0 || pem.replace(PEM_BLOCK, "").trim() !== "") {
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
export const hostSchema = z
  .string({ message: "Enter the receiver's host name or IP address." })
  .trim()
  .min(1, "Enter the receiver's host name or IP address.")
  .transform((v) => v.replace(/^\[(.*)\]$/, "$1"))
  .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), "Enter a host name (such as siem.example.com) or an IP address.");

export const portSchema = z.coerce
  .number({ message: "Enter a port number." })
  .int("Enter a whole number.")
  .min(1, "Ports are 1 to 65535.")
  .max(65_535, "Ports are 1 to 65535.");

/** The CA certificate field every kind in Custody offers, last in its form. */
export const caCertificateField: SinkFormField = {
  name: "caCertificate",
  label: "CA certificate (optional)",
  control: "textarea",
  hint: "PEM certificate(s) to trust for this receiver, in addition to the system's: for a private CA or Splunk's self-signed certificate.",
  placeholder: "-----BEGIN CERTIFICATE-----",
  wide: true,
};

/** A URL field, whole row, monospaced. */
export function urlField(label: string, example: string, hint: string): SinkFormField {
  const sealed = "A query string (such as ?token=…) is stored encrypted and never shown again.";
  return {
    name: "url",
    label,
    control: "text",
    hint: `${hint} ${sealed}`,
    editHint: `${hint} ${sealed} Leave it out to keep the stored one; end the URL with ? to remove it.`,
    placeholder: example,
    mono: true,
    wide: true,
  };
}

/** A URL's origin (scheme, host, port): what a URL sink's events go to, in words; null if it is no URL. */
export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The stored secret, which a kind with one cannot send without. */
export function requireSecret(secret: string | null): string {
  if (secret === null) throw new SinkDeliveryError("The sink has no stored secret; edit it to set one.", false);
  return secret;
}
