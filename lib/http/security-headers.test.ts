import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { HSTS_VALUE, pageContentSecurityPolicy, strictTransportSecurity } from "./security-headers";

const request = (headers: Record<string, string>, encrypted = false) => ({ headers, socket: { encrypted } }) as unknown as IncomingMessage;

describe("pageContentSecurityPolicy", () => {
  it("lets scripts run only with the nonce, and forbids framing", () => {
    const policy = pageContentSecurityPolicy("bm9uY2U=");
    const directives = Object.fromEntries(policy.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));
    expect(directives["script-src"]).toEqual(["'self'", "'nonce-bm9uY2U='", "'strict-dynamic'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    expect(directives["object-src"]).toEqual(["'none'"]);
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(policy).not.toContain("unsafe-eval");
  });
});

describe("strictTransportSecurity", () => {
  it("is sent when the public URL is https, or the request came over TLS", () => {
    expect(strictTransportSecurity(request({}), { trustProxy: false, publicUrlIsHttps: true })).toBe(HSTS_VALUE);
    expect(strictTransportSecurity(request({}, true), { trustProxy: false })).toBe(HSTS_VALUE);
  });

  it("believes X-Forwarded-Proto only from a trusted proxy", () => {
    expect(strictTransportSecurity(request({ "x-forwarded-proto": "https" }), { trustProxy: true })).toBe(HSTS_VALUE);
    expect(strictTransportSecurity(request({ "x-forwarded-proto": "https" }), { trustProxy: false })).toBeNull();
    expect(strictTransportSecurity(request({ "x-forwarded-proto": "http" }), { trustProxy: true })).toBeNull();
    expect(strictTransportSecurity(request({}), { trustProxy: false, publicUrlIsHttps: false })).toBeNull();
  });
});
