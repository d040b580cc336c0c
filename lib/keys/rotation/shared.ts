import "server-only";
import type { Actor } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { NO_REQUEST } from "@/lib/http/request-meta";

// What the rotation's parts share: its states, the actor of what the worker does by itself, and
// the count of what still depends on a KMS key.

export const ROTATION_STATES = ["running", "failed", "completed", "rolled_back"] as const;
export type RotationState = (typeof ROTATION_STATES)[number];

/** Rotations that hold the tenant: one at most (a partial unique index). */
export const OPEN_STATES: readonly RotationState[] = ["running", "failed"];

/** The worker's own events (completed, stopped on an error) are Custody's, not a person's. */
export const ROTATION_ACTOR: Actor = { type: "system", id: null, label: "key rotation" };
export const ROTATION_REQUEST = NO_REQUEST;

export const NOT_FOUND = () => new AppError("not_found", "That rotation does not exist for this tenant.");

/**
 * How many of the tenant's tenant keys need `kmsKeyId`: ones it wraps, and ones an unfinished
 * rotation re-wrapped away from it (a roll back would put them back under it). Revoked ones
 * count too: restoring access makes them active again.
 */
export async function dependentsOf(tx: Tx, tenantId: string, kmsKeyId: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM tenant_keys
     WHERE tenant_id = ${tenantId}::uuid AND status IN ('active', 'revoked')
       AND (kms_key_id = ${kmsKeyId}::uuid OR previous_kms_key_id = ${kmsKeyId}::uuid)`;
  return row?.n ?? 0;
}
