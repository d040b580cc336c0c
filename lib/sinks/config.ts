import "server-only";
import { getDb } from "@/lib/db";
import { decryptSinkSecret } from "./secrets";
import type { SinkConfig } from "./types";

// A stored sink as the transports need it: its settings (jsonb, validated on the way in by
// lib/validation/sinks.ts) and its secret, decrypted. Only the worker and "send test event"
// call this; the secret lives in memory for one send.

export type StoredSettings = {
  url?: string;
  host?: string;
  port?: number;
  transport?: "tcp" | "tls";
  caCertificate?: string | null;
  facility?: number;
  appName?: string;
  index?: string | null;
  sourcetype?: string;
};

type SinkRow = { id: string; tenantId: string; kind: "webhook" | "syslog" | "splunk_hec"; settings: unknown; secretCiphertext: Uint8Array | null };

/** Builds the transport's configuration; the secret is decrypted here. */
export function sinkConfigOf(row: SinkRow): { config: SinkConfig; secret: string | null } {
  const s = (row.settings ?? {}) as StoredSettings;
  const secret = row.secretCiphertext ? decryptSinkSecret(row.id, row.secretCiphertext) : null;
  switch (row.kind) {
    case "webhook":
      return { config: { kind: "webhook", url: s.url!, secret: secret!, caCertificate: s.caCertificate ?? null }, secret };
    case "syslog":
      return {
        config: {
          kind: "syslog",
          host: s.host!,
          port: s.port!,
          transport: s.transport ?? "tcp",
          caCertificate: s.caCertificate ?? null,
          facility: s.facility ?? 13,
          appName: s.appName ?? "custody",
        },
        secret,
      };
    case "splunk_hec":
      return {
        config: { kind: "splunk_hec", url: s.url!, token: secret!, index: s.index ?? null, sourcetype: s.sourcetype ?? "custody:audit", caCertificate: s.caCertificate ?? null },
        secret,
      };
  }
}

/** The sink's tenant and transport configuration; null if it no longer exists. */
export async function loadSinkConfig(sinkId: string): Promise<{ tenantId: string; config: SinkConfig; secret: string | null } | null> {
  const row = await getDb().logSink.findUnique({
    where: { id: sinkId },
    select: { id: true, tenantId: true, kind: true, settings: true, secretCiphertext: true },
  });
  if (!row) return null;
  return { tenantId: row.tenantId, ...sinkConfigOf(row) };
}
