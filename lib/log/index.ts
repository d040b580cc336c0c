import pino from "pino";
import { getConfig } from "@/lib/config";

// Structured logs on stdout. Redaction is a second line of defence: code must not put
// secrets or key material in log fields in the first place.
export const log = pino({
  level: getConfig().LOG_LEVEL,
  base: { service: "custody" },
  redact: {
    paths: [
      "password",
      "*.password",
      "secret",
      "*.secret",
      "*.clientSecret",
      "*.access_token",
      "*.id_token",
      "*.refresh_token",
      "headers.cookie",
      "headers.authorization",
    ],
    censor: "[redacted]",
  },
});

/** The loggable parts of an unexpected error: its class and message, never the whole object. */
export function errorFields(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: typeof error, errorMessage: "non-Error thrown" };
}
