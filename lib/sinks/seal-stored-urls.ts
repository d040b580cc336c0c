import "server-only";
import { getDb } from "@/lib/db";
import type { Prisma } from "@/lib/db/generated/client";
import type { StoredSettings } from "./kinds";
import { needsSealing, sealSinkUrl } from "./url-secret";

/**
 * Seals the query strings of sink URLs stored in clear (before lib/sinks/url-secret.ts
 * existed): run at start-up, after the migrations, by each instance (the row lock makes a
 * second one a no-op). Returns how many sinks it sealed.
 */
export async function sealStoredSinkUrls(): Promise<number> {
  const db = getDb();
  const candidates = await db.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM log_sinks WHERE settings ? 'url' AND NOT settings ? 'sealedUrl' AND settings->>'url' ~ '[?@]'`;
  let sealed = 0;
  for (const { id } of candidates) {
    const done = await db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Array<{ settings: StoredSettings }>>`SELECT settings FROM log_sinks WHERE id = ${id}::uuid FOR UPDATE`;
      if (!row || !needsSealing(row.settings)) return false;
      const settings = sealSinkUrl(id, row.settings) as Prisma.InputJsonObject;
      await tx.logSink.update({ where: { id }, data: { settings } });
      return true;
    });
    if (done) sealed++;
  }
  return sealed;
}
