import "server-only";
import { log } from "@/lib/log";
import { getDb, getReadDb } from "./index";

// Reading your own writes from a replica: before a console read that should show what the
// caller (or anyone) committed a moment ago, wait until the replica has replayed the primary's
// WAL up to now. Bounded: a replica further behind than that is read anyway (its answer is
// consistent, only older) and the lag is logged.

const logger = log.child({ component: "read-replica" });
const POLL_MS = 10;

/** Resolves once the read database has everything the primary had committed at the call (or after `timeoutMs`). */
export async function replicaCaughtUp(timeoutMs = 2_000): Promise<boolean> {
  const read = getReadDb();
  const primary = getDb();
  if (read === primary) return true;
  const [position] = await primary.$queryRaw<Array<{ lsn: string }>>`SELECT pg_current_wal_lsn()::text AS lsn`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A server that is not in recovery is a primary: it has everything it was sent.
    const [row] = await read.$queryRaw<Array<{ caught: boolean | null }>>`
      SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= ${position!.lsn}::pg_lsn AS caught`;
    if (row?.caught) return true;
    if (Date.now() >= deadline) {
      logger.warn({ behindLsn: position!.lsn, waitedMs: timeoutMs }, "the read replica is behind the primary; reading it anyway");
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
