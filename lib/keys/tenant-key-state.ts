import "server-only";
import type pg from "pg";
import { type KeyRef, keyRefOf } from "@/lib/kms";

// What the key service needs to know about a tenant's keys, read in one query. Cached per
// instance (lib/keyservice/key-service.ts) and re-read after any notification or reconnect.

export type TenantKeyRecord = {
  id: string;
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
  /** The tenant key new wraps use: the newest under the tenant's primary KMS key. */
  primary: TenantKeyRecord | null;
  /** Tenant keys that may unwrap: active, under a KMS key the tenant has not revoked. */
  usable: Map<string, TenantKeyRecord>;
};

type Row = {
  id: string;
  revoked: boolean;
  primary_kms_key_id: string | null;
  tenant_key_id: string | null;
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
            tk.id::text AS tenant_key_id, k.id::text AS kms_key_id, k.provider, k.key_ref, k.key_details, tk.wrapped_key
       FROM tenants t
       LEFT JOIN tenant_keys tk ON tk.tenant_id = t.id AND tk.status = 'active'
       LEFT JOIN kms_keys k ON k.id = tk.kms_key_id AND k.tenant_id = t.id AND k.status IN ('active', 'previous', 'error')
      WHERE t.id = $1::uuid
      ORDER BY tk.created_at`,
    [tenantId],
  );
  const first = rows[0];
  if (!first) return null;
  // The id as the database prints it: chains, caches and leases must never see another spelling.
  const state: TenantKeyState = { tenantId: first.id, revoked: first.revoked, primary: null, usable: new Map() };
  for (const row of rows) {
    if (!row.tenant_key_id || !row.kms_key_id || !row.provider || !row.key_ref || !row.wrapped_key) continue;
    const kmsKey = keyRefOf({ provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details });
    const record = { id: row.tenant_key_id, kmsKeyId: row.kms_key_id, kmsKey, wrappedKey: row.wrapped_key };
    state.usable.set(record.id, record);
    // Rows are oldest first, so the last one under the primary KMS key wins.
    if (row.kms_key_id === first.primary_kms_key_id) state.primary = record;
  }
  return state;
}
