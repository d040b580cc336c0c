import pino from "pino";
import { getConfig } from "@/lib/config";

/**
 * The configured level. The logger exists from the first import, which in a script can come
 * before its entry point has read the configuration and reported a malformed one in its own
 * words (`Invalid configuration: …`): until then, a configuration that does not parse must not
 * throw here first, and the logger starts at `info`.
 */
function configuredLevel(): string {
  try {
    return getConfig().LOG_LEVEL;
  } catch {
    return "info";
  }
}

// Structured logs on stdout. Redaction is a second line of defence: code must not put
// secrets or key material in log fields in the first place.
export const log = pino({
  level: configuredLevel(),
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
