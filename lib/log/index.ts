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

// The process is stopping (Ctrl-C, SIGTERM): a flag on globalThis, so Next's bundled copy of
// this module sees it too.
const STOPPING = Symbol.for("custody.process-stopping");

/**
 * From now on only errors are logged. A shutdown is announced by one line (stopOnSignals);
 * the connections it ends (PostgreSQL receives the same Ctrl-C) are not news.
 */
export function markProcessStopping(): void {
  (globalThis as Record<symbol, unknown>)[STOPPING] = true;
}

export function processStopping(): boolean {
  return (globalThis as Record<symbol, unknown>)[STOPPING] === true;
}

// Structured logs on stdout. Redaction is a second line of defence: code must not put
// secrets or key material in log fields in the first place.
export const log = pino({
  level: configuredLevel(),
  hooks: {
    // Inherited by every child logger. Levels below 50 (error) are dropped while stopping.
    logMethod(args, method, level) {
      if (level < 50 && processStopping()) return;
      return method.apply(this, args);
    },
  },
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
