import "server-only";
import { type Caller, standingOf } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import type { RotationState } from "./shared";

export type RotationKey = { id: string; keyRef: string; providerLabel: string };

export type RotationView = {
  id: string;
  state: RotationState;
  from: RotationKey;
  to: RotationKey;
  total: number;
  rewrapped: number;
  lastError: string | null;
  startedAt: Date;
  finishedAt: Date | null;
};

export type RotationOverview = {
  primary: RotationKey | null;
  /** Older keys that still wrap some of the tenant's active tenant keys (re-wrap candidates). */
  stillWrapping: Array<RotationKey & { tenantKeys: number }>;
  /** The open rotation (running or stopped on an error), else the latest one. */
  rotation: RotationView | null;
  /** Keys nothing depends on any more that are not primary: retiring them is safe. */
  retirable: RotationKey[];
};

function keyOf(row: { id: string; provider: string; keyRef: string; keyDetails: unknown }): RotationKey {
  const ref = keyRefOf(row);
  return { id: row.id, keyRef: row.keyRef, providerLabel: KMS_PROVIDERS[ref.provider].display.label };
}

/** What the keys page shows about rotating the tenant's KMS key: for its admins and auditors. */
export async function rotationOverview(caller: Caller, tenantId: string): Promise<RotationOverview> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  const tenant = await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { primaryKmsKeyId: true } });
  const keys = await db.kmsKey.findMany({ where: { tenantId }, orderBy: { createdAt: "asc" } });
  const counts = await db.$queryRaw<Array<{ kms_key_id: string; wrapping: number; depending: number }>>`
    SELECT k.id::text AS kms_key_id,
           count(*) FILTER (WHERE tk.kms_key_id = k.id AND tk.status = 'active')::int AS wrapping,
           count(tk.id)::int AS depending
      FROM kms_keys k
      JOIN tenant_keys tk ON tk.tenant_id = k.tenant_id AND tk.status IN ('active', 'revoked') AND (tk.kms_key_id = k.id OR tk.previous_kms_key_id = k.id)
     WHERE k.tenant_id = ${tenantId}::uuid
     GROUP BY k.id`;
  const byKey = new Map(counts.map((c) => [c.kms_key_id, c]));
  const rotations = await db.kmsKeyRotation.findMany({ where: { tenantId }, orderBy: { startedAt: "desc" }, take: 5 });
  const latest = rotations.find((r) => r.state === "running" || r.state === "failed") ?? rotations[0] ?? null;
  const keyById = new Map(keys.map((k) => [k.id, k]));
  const primaryRow = tenant.primaryKmsKeyId ? keyById.get(tenant.primaryKmsKeyId) : undefined;
  const open = latest && (latest.state === "running" || latest.state === "failed") ? latest : null;

  return {
    primary: primaryRow ? keyOf(primaryRow) : null,
    stillWrapping: keys
      .filter((k) => k.id !== tenant.primaryKmsKeyId && k.status !== "RETIRED" && (byKey.get(k.id)?.wrapping ?? 0) > 0)
      .map((k) => ({ ...keyOf(k), tenantKeys: byKey.get(k.id)!.wrapping })),
    rotation: latest
      ? {
          id: latest.id,
          state: latest.state as RotationState,
          from: keyOf(keyById.get(latest.fromKmsKeyId)!),
          to: keyOf(keyById.get(latest.toKmsKeyId)!),
          total: latest.total,
          rewrapped: latest.rewrapped,
          lastError: latest.lastError,
          startedAt: latest.startedAt,
          finishedAt: latest.finishedAt,
        }
      : null,
    retirable: keys
      .filter(
        (k) =>
          (k.status === "ACTIVE" || k.status === "PREVIOUS" || k.status === "ERROR") &&
          k.id !== tenant.primaryKmsKeyId &&
          (byKey.get(k.id)?.depending ?? 0) === 0 &&
          !(open && (open.fromKmsKeyId === k.id || open.toKmsKeyId === k.id)),
      )
      .map(keyOf),
  };
}
