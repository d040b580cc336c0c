// Same-origin checks for state-changing requests from browsers.

/** What a refused cross-site request is told (server actions in proxy.ts, route handlers in lib/http/route.ts). */
export const CROSS_SITE_MESSAGE = "Cross-site request refused.";

type HeaderSource = { get(name: string): string | null };

/**
 * A browser's cross-site request carries an Origin of another host: true for it, and for an
 * Origin that is not a URL ("null" from a sandboxed frame or a redirect chain). No Origin
 * (a non-browser client) is not cross-site; such a request carries no cookies unless its
 * sender holds them. The host compared with is X-Forwarded-Host when present: without
 * TRUST_PROXY, stampRequest drops any a client sent and Next sets it from Host.
 */
export function crossSite(headers: HeaderSource): boolean {
  const origin = headers.get("origin");
  if (!origin) return false;
  const host = headers.get("x-forwarded-host")?.split(",")[0]?.trim() || headers.get("host");
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/**
 * Whether Next would treat this request as a server action: a POST with a Next-Action header
 * (the client's fetch), or a form POST to a page (a form submitted before hydration).
 */
export function mayBeServerAction(method: string, pathname: string, headers: HeaderSource): boolean {
  if (method !== "POST") return false;
  if (headers.get("next-action") !== null) return true;
  if (pathname.startsWith("/api/")) return false;
  const type = (headers.get("content-type") ?? "").toLowerCase();
  return type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded");
}
