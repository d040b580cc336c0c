import type { StoredSettings } from "./kinds";
import { decryptSinkSecret, encryptSinkSecret, type SinkSecretKeys, deploymentSinkSecretKeys } from "./secrets";

// A sink URL's query string (`?token=…`, how many receivers authenticate a webhook) and any
// user name or password in it are secrets, like the kind's own: they are sealed with the sink's
// other secret (AES-256-GCM under SINK_SECRET_KEY, lib/sinks/secrets.ts), never stored, shown,
// echoed to the edit form or written to the trail in clear. The settings keep the URL's origin
// and path under `url` and the whole URL sealed under `sealedUrl` (base64); the transport gets
// the whole URL back (lib/sinks/config.ts).
//
// Editing: a URL entered with a query string replaces the sealed one; entered without one, the
// sealed query string is kept (the form shows the URL without it); a URL ending in a lone "?"
// removes it.

export const SEALED_URL = "sealedUrl";

/** The additional data binds the sealed URL to its sink and to this use (it cannot stand in for the sink's secret). */
function sealId(sinkId: string): string {
  return `${sinkId}#url`;
}

/** A URL's origin and path: what may be stored and shown. */
export function openPart(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function parse(value: unknown): URL | null {
  if (typeof value !== "string") return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function hasSecretPart(url: URL): boolean {
  return url.search !== "" || url.username !== "" || url.password !== "";
}

/** The whole URL a stored sink sends to: its sealed one, or the stored one when nothing is sealed. */
export function openSinkUrl(sinkId: string, settings: StoredSettings, keys?: SinkSecretKeys): StoredSettings {
  const sealed = settings[SEALED_URL];
  const rest = withoutSealed(settings);
  if (typeof sealed !== "string") return rest;
  return { ...rest, url: decryptSinkSecret(sealId(sinkId), Buffer.from(sealed, "base64"), keys ?? deploymentSinkSecretKeys()) };
}

/**
 * The settings to store for `settings` as entered (create, or edit of a sink whose stored
 * settings are `previous`): the URL's secret part sealed, its origin and path in clear.
 */
export function sealSinkUrl(sinkId: string, settings: StoredSettings, previous: StoredSettings | null = null, keys?: SinkSecretKeys): StoredSettings {
  const raw = settings.url;
  const url = parse(raw);
  if (!url || typeof raw !== "string") return settings;
  let whole: URL | null = hasSecretPart(url) ? url : null;
  // Entered without a query string (and not ending in "?" to remove it): keep the sealed one.
  if (!whole && !raw.endsWith("?") && previous && typeof previous[SEALED_URL] === "string") {
    const kept = parse(openSinkUrl(sinkId, previous, keys).url);
    if (kept && kept.search !== "") {
      whole = new URL(url.href);
      whole.search = kept.search;
    }
  }
  if (!whole) return { ...withoutSealed(settings), url: raw.replace(/\?$/, "") };
  const sealed = encryptSinkSecret(sealId(sinkId), whole.href, keys ?? deploymentSinkSecretKeys()).toString("base64");
  return { ...settings, url: openPart(url), [SEALED_URL]: sealed };
}

/** The settings as a browser may see them (the edit form, the status page): nothing sealed. */
export function shownSettings(settings: StoredSettings): StoredSettings {
  return withoutSealed(settings);
}

function withoutSealed(settings: StoredSettings): StoredSettings {
  return Object.fromEntries(Object.entries(settings).filter(([key]) => key !== SEALED_URL));
}

/** Whether a stored URL still holds a secret part in clear (stored before this sealing existed). */
export function needsSealing(settings: StoredSettings): boolean {
  const url = parse(settings.url);
  return url !== null && hasSecretPart(url);
}
