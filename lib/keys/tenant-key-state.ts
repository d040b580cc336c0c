import "server-only";
import type pg from "pg";
import { type KeyRef, keyRefOf } from "@/lib/kms";

// What the key service needs to know about a tenant's keys, read in one query. Cached per
// instance (lib/keyservice/key-service.ts) and re-read after any notification or reconnect.

export type TenantKeyRecord = {
  id: string;
  /** v1, v2, … per tenant. */
  version: number;
  kmsKeyId: string;
  /** The customer's key that wraps it (its provider resolves the client). */
  kmsKey: KeyRef;
  /** The tenant key as wrapped by the customer's key, bound to the tenant. */
  wrappedKey: Buffer;
};

export type TenantKeyState = {
  /** Canonical (lower-case) tenant id, from the database. */
  tenantId: string;
  revoked: boolean;
  /**
   * The tenant key new wraps and rekeys use (the current version): the highest version under
   * the tenant's primary KMS key that is active and not retired.
   */
  primary: TenantKeyRecord | null;
  /** Tenant keys that may unwrap: active, not retired, under a KMS key the tenant has not revoked. */
  usable: Map<string, TenantKeyRecord>;
  /** The tenant's retired versions by tenant key id: their EDEKs are refused with key_version_retired. */
  retired: Map<string, { version: number; retiredAt: Date }>;
};

type Row = {
  id: string;
  revoked: boolean;
  primary_kms_key_id: string | null;
  tenant_key_id: string | null;
  version: number | null;
  retired_at: Date | null;
  kms_key_id: string | null;
  provider: string | null;
  key_ref: string | null;
  key_details: unknown;
  wrapped_key: Buffer | null;
};

/** The tenant's key state, or null if there is no such tenant. */
export async function loadTenantKeyState(db: pg.Pool | pg.PoolClient, tenantId: string): Promise<TenantKeyState | null> {
  const { rows } = await db.query<Row>(
    `SELECT t.id::text AS id, t.access_revoked_at IS NOT NULL AS revoked, t.primary_kms_key_id::text AS primary_kms_key_id,
            tk.id::text AS tenant_key_id, tk.version, tk.retired_at,
            k.id::text AS kms_key_id, k.provider, k.key_ref, k.key_details, tk.wrapped_key
       FROM tenants t
       LEFT JOIN tenant_keys tk ON tk.tenant_id = t.id AND (tk.status = 'active' OR tk.retired_at IS NOT NULL)
       LEFT JOIN kms_keys k ON k.id = tk.kms_key_id AND k.tenant_id = t.id AND k.status IN ('active', 'previous', 'error')
      WHERE t.id = $1::uuid
      ORDER BY tk.version`,
    [tenantId],
  );
  const first = rows[0];
  if (!first) return null;
  // The id as the database prints it: chains, caches and leases must never see another spelling.
  const state: TenantKeyState = { tenantId: first.id, revoked: first.revoked, primary: null, usable: new Map(), retired: new Map() };
  for (const row of rows) {
    if (!row.tenant_key_id || row.version === null) continue;
    // A retired version is known as retired whatever its KMS key's state: the caller is told why.
    if (row.retired_at) {
      state.retired.set(row.tenant_key_id, { version: row.version, retiredAt: row.retired_at });
      continue;
    }
    if (!row.kms_key_id || !row.provider || !row.key_ref || !row.wrapped_key) continue;
    const kmsKey = keyRefOf({ provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details });
    const record = { id: row.tenant_key_id, version: row.version, kmsKeyId: row.kms_key_id, kmsKey, wrappedKey: row.wrapped_key };
    state.usable.set(record.id, record);
    // Rows are in version order, so the highest version under the primary KMS key wins.
    if (row.kms_key_id === first.primary_kms_key_id) state.primary = record;
  }
  return state;
}
