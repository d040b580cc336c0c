import "server-only";
import { getDb } from "@/lib/db";
import { SINK_KINDS, type SinkConfigBase, type SinkKindRegistry, type StoredSettings, sinkConfigOf } from "./kinds";
import { decryptSinkSecret } from "./secrets";
import { openSinkUrl } from "./url-secret";

// A stored sink as the transports need it: its settings (jsonb, validated on the way in by its
// kind's schema, lib/sinks/kinds) and its secret, decrypted. Only the worker and "send test
// event" call this; the secret (and a URL's sealed query string) lives in memory for one send.

type SinkRow = { id: string; kind: string; settings: unknown; secretCiphertext: Uint8Array | null };

/** Builds the transport's configuration; the secret is decrypted here. */
export function storedSinkConfig(row: SinkRow, kinds: SinkKindRegistry = SINK_KINDS): { config: SinkConfigBase; secret: string | null } {
  const secret = row.secretCiphertext ? decryptSinkSecret(row.id, row.secretCiphertext) : null;
  return { config: sinkConfigOf(kinds, row.kind, openSinkUrl(row.id, (row.settings ?? {}) as StoredSettings), secret), secret };
}

/** The sink's tenant and transport configuration; null if it no longer exists. */
export async function loadSinkConfig(
  sinkId: string,
  kinds: SinkKindRegistry = SINK_KINDS,
): Promise<{ tenantId: string; config: SinkConfigBase; secret: string | null } | null> {
  const row = await getDb().logSink.findUnique({
    where: { id: sinkId },
    select: { id: true, tenantId: true, kind: true, settings: true, secretCiphertext: true },
  });
  if (!row) return null;
  return { tenantId: row.tenantId, ...storedSinkConfig(row, kinds) };
}
