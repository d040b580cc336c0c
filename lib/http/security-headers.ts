import type { IncomingMessage } from "node:http";

// The security headers Custody's responses carry, in one place (SECURITY.md lists them):
// - every console response (pages, route handlers, Next's assets): PAGE_SECURITY_HEADERS, set
//   by the HTTP server in front of Next, plus a Content-Security-Policy with a fresh script
//   nonce per request, set by proxy.ts (Next puts the nonce on the scripts it emits);
// - every key-service response (/api/v1, plain node:http): API_SECURITY_HEADERS;
// - both: Strict-Transport-Security when served over https (strictTransportSecurity).

export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  // For browsers that predate CSP's frame-ancestors.
  "X-Frame-Options": "DENY",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
});

/** JSON only, never rendered or framed, never embedded by another site. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
});

/**
 * The console's Content-Security-Policy. Scripts run only with this request's nonce ('self' is
 * for browsers without 'strict-dynamic'); no 'unsafe-inline' for scripts. Styles allow inline
 * attributes (charts and progress bars size themselves with style=""), which cannot run code.
 */
export function pageContentSecurityPolicy(nonce: string, options: { development?: boolean } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A year; no includeSubDomains, which would bind the vendor's other hosts too. */
export const HSTS_VALUE = "max-age=31536000";

/**
 * Strict-Transport-Security for this response, or null. Sent when Custody's public URL is
 * https (NEXTAUTH_URL: browsers ignore the header on a plain-http response, so this is safe
 * even where TLS ends at a load balancer Custody does not trust), or when this request arrived
 * over https: a TLS socket, or a trusted proxy (TRUST_PROXY) saying X-Forwarded-Proto: https.
 */
export function strictTransportSecurity(
  req: IncomingMessage,
  options: { trustProxy: boolean; publicUrlIsHttps?: boolean },
): string | null {
  if (options.publicUrlIsHttps) return HSTS_VALUE;
  if ((req.socket as { encrypted?: boolean }).encrypted) return HSTS_VALUE;
  if (options.trustProxy) {
    const proto = req.headers["x-forwarded-proto"];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase();
    if (first === "https") return HSTS_VALUE;
  }
  return null;
}
