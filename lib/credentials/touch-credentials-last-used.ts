import "server-only";
import { getDb } from "@/lib/db";

/**
 * Records when credentials were last used, many in one UPDATE (the key service batches them).
 * last_used_at only moves forward, so a late flush from one instance cannot undo another's.
 */
export async function touchCredentialsLastUsed(lastUsed: Map<string, Date>): Promise<void> {
  if (lastUsed.size === 0) return;
  const ids = [...lastUsed.keys()];
  const times = [...lastUsed.values()].map((d) => d.toISOString());
  await getDb().$executeRaw`
    UPDATE service_credentials AS c SET last_used_at = u.used_at
      FROM unnest(${ids}::uuid[], ${times}::timestamptz[]) AS u(id, used_at)
     WHERE c.id = u.id AND (c.last_used_at IS NULL OR c.last_used_at < u.used_at)`;
}
