import type { Metadata } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Custody", template: "%s · Custody" },
  description: "Customer-managed keys for your SaaS: your key, your audit trail, your kill switch.",
};

// Every page is rendered per request: the Content-Security-Policy's script nonce (proxy.ts) is
// new each time, and a page prerendered at build time would carry scripts without it.
export default async function RootLayout({ children }: { children: React.ReactNode }) {
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">{children}</body>
    </html>
  );
}
