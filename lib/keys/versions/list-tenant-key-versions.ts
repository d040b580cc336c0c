import "server-only";
import { catchUp, freshnessOf, type Freshness } from "@/lib/audit/usage/tenant-usage";
import { type Caller, standingOf } from "@/lib/authz";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import { type KeyUses, keyUsesOf } from "./key-uses";
import { DEFAULT_QUIET_DAYS, type Retirement, retirement } from "./retirement";

export type VersionState = "current" | "active" | "retired" | "revoked";

export type TenantKeyVersion = {
  tenantKeyId: string;
  version: number;
  state: VersionState;
  createdAt: Date;
  /** The KMS key that wraps it: id, reference, provider label. */
  kmsKeyId: string;
  keyRef: string;
  providerLabel: string;
  /** Data keys wrapped under it (rekeys onto it included), unwrapped, and moved away by rekey. */
  wraps: number;
  unwraps: number;
  rekeysFrom: number;
  rekeysTo: number;
  lastUsedAt: Date | null;
  supersededAt: Date | null;
  retiredAt: Date | null;
  /** Whether it may be retired now with the default quiet period, and if not why. */
  retirement: Retirement;
};

export type TenantKeyVersions = {
  versions: TenantKeyVersion[];
  rotationDays: number | null;
  accessRevoked: boolean;
  hasPrimary: boolean;
  freshness: Freshness;
};

type Row = {
  id: string;
  version: number;
  status: "active" | "revoked";
  created_at: Date;
  retired_at: Date | null;
  kms_key_id: string;
  provider: string;
  key_ref: string;
  key_details: unknown;
  is_current: boolean;
};

/**
 * The tenant's key versions, newest first, with the KMS key wrapping each. `current` follows
 * the key service's rule (lib/keys/tenant-key-state.ts): the highest active, unretired version
 * under the primary KMS key, if that key is usable.
 */
export async function versionRows(db: Tx | ReturnType<typeof getDb>, tenantId: string): Promise<Row[]> {
  return db.$queryRaw<Row[]>`
    WITH current AS (
      SELECT tk.id FROM tenant_keys tk
        JOIN tenants t ON t.id = tk.tenant_id AND t.primary_kms_key_id = tk.kms_key_id
        JOIN kms_keys k ON k.id = tk.kms_key_id AND k.status IN ('active', 'previous', 'error')
       WHERE tk.tenant_id = ${tenantId}::uuid AND tk.status = 'active' AND tk.retired_at IS NULL
       ORDER BY tk.version DESC LIMIT 1)
    SELECT tk.id::text AS id, tk.version, tk.status::text AS status, tk.created_at, tk.retired_at,
           k.id::text AS kms_key_id, k.provider, k.key_ref, k.key_details, tk.id IN (SELECT id FROM current) AS is_current
      FROM tenant_keys tk JOIN kms_keys k ON k.id = tk.kms_key_id AND k.tenant_id = tk.tenant_id
     WHERE tk.tenant_id = ${tenantId}::uuid
     ORDER BY tk.version DESC`;
}

export function versionsOf(rows: Row[], uses: Map<string, KeyUses>, now: Date, quietDays = DEFAULT_QUIET_DAYS): TenantKeyVersion[] {
  return rows.map((row, index) => {
    const use = uses.get(row.id);
    // Rows are newest first: the version made after this one is the row before it.
    const supersededAt = index > 0 ? rows[index - 1]!.created_at : null;
    const lastUsedAt = use?.lastUsedAt ?? null;
    const key = keyRefOf({ provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details });
    const state: VersionState = row.retired_at ? "retired" : row.is_current ? "current" : row.status === "revoked" ? "revoked" : "active";
    return {
      tenantKeyId: row.id,
      version: row.version,
      state,
      createdAt: row.created_at,
      kmsKeyId: row.kms_key_id,
      keyRef: row.key_ref,
      providerLabel: KMS_PROVIDERS[key.provider].display.label,
      wraps: (use?.wraps ?? 0) + (use?.rekeysTo ?? 0),
      unwraps: use?.unwraps ?? 0,
      rekeysFrom: use?.rekeysFrom ?? 0,
      rekeysTo: use?.rekeysTo ?? 0,
      lastUsedAt,
      supersededAt,
      retiredAt: row.retired_at,
      retirement: retirement({ isCurrent: row.is_current, retiredAt: row.retired_at, supersededAt, lastUsedAt }, quietDays, now),
    };
  });
}

/** The versions page's data, for the tenant's admins and auditors; anyone else is refused. */
export async function listTenantKeyVersions(caller: Caller, tenantId: string, now = new Date()): Promise<TenantKeyVersions> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  await catchUp(tenantId);
  const db = getDb();
  const [tenant, rows, uses, freshness] = await Promise.all([
    db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { keyRotationDays: true, accessRevokedAt: true, primaryKmsKeyId: true } }),
    versionRows(db, tenantId),
    keyUsesOf(db, tenantId),
    freshnessOf(tenantId),
  ]);
  return {
    versions: versionsOf(rows, uses, now),
    rotationDays: tenant.keyRotationDays,
    accessRevoked: tenant.accessRevokedAt !== null,
    hasPrimary: tenant.primaryKmsKeyId !== null,
    freshness,
  };
}
