import "server-only";
import { getDb, Prisma } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Caller } from "@/lib/authz";
import { standingOf } from "@/lib/authz";

// The fleet page's live refresh: a short text that changes whenever anything the fleet table
// shows from the tenants' own state changes (a revocation or restore, a key registered,
// verified, failing or revoked, a log sink starting or stopping to fail, a rotation policy, the
// minute's usage counts). The page polls it twice a second and re-renders only when it differs,
// so an open fleet page shows a revocation within a second and costs one scan of a few narrow
// columns per poll (bench:fleet measures it), not the fleet query.

/** The stamp's query (exported for the bench's plans). */
export const FLEET_STAMP_SQL = Prisma.sql`
  SELECT concat_ws('/',
    (SELECT concat_ws(':', count(*), count(access_revoked_at), max(access_revoked_at), count(primary_kms_key_id),
                      sum(hashtext(coalesce(primary_kms_key_id::text, '') || ':' || coalesce(kms_rotation_days, 0)::text)))
       FROM tenants),
    (SELECT concat_ws(':', count(*), max(created_at), max(last_attempt_at), max(revoked_at), count(*) FILTER (WHERE last_attempt_ok = false))
       FROM kms_keys),
    (SELECT count(*) FROM log_sinks WHERE enabled AND consecutive_failures > 0),
    (SELECT max(as_of) FROM fleet_usage)) AS stamp`;

/** The fleet's current stamp, unchecked: callers check the viewer first. */
export async function fleetStamp(): Promise<string> {
  const [row] = await getDb().$queryRaw<Array<{ stamp: string }>>(FLEET_STAMP_SQL);
  return row?.stamp ?? "";
}

/** The stamp for a vendor admin; anyone else is told there is nothing here. */
export async function fleetStampFor(caller: Caller): Promise<string> {
  const standing = await standingOf(getDb(), caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("not_found", "Not found.");
  return fleetStamp();
}
