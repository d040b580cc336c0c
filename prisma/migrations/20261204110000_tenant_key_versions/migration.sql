-- Tenant key versions and rotation (issue 16, "Rotation" item 2).
--
-- Each tenant key gets a per-tenant version number (v1, v2, … in the order the keys were made;
-- existing keys numbered by created_at). A tenant admin may retire a version that is not the
-- current one and has not been unwrapped for a chosen period: `retired_at` is then set and the
-- key service answers `key_version_retired` for its EDEKs. Retirement is final (ARCHITECTURE.md).
-- `tenants.key_rotation_days` is the tenant's rotation schedule (null: off).
ALTER TABLE "tenants" ADD COLUMN "key_rotation_days" INTEGER;

ALTER TABLE "tenant_keys" ADD COLUMN "version" INTEGER,
    ADD COLUMN "retired_at" TIMESTAMPTZ(3),
    ADD COLUMN "retired_by_id" UUID;

UPDATE "tenant_keys" t SET "version" = v.n
  FROM (SELECT "id", row_number() OVER (PARTITION BY "tenant_id" ORDER BY "created_at", "id")::integer AS n FROM "tenant_keys") v
 WHERE v."id" = t."id";

ALTER TABLE "tenant_keys" ALTER COLUMN "version" SET NOT NULL;

CREATE UNIQUE INDEX "tenant_keys_tenant_id_version_key" ON "tenant_keys"("tenant_id", "version");

-- Data keys per tenant key and use, kept by the usage rollup (lib/audit/usage/roll-up.ts) in
-- the same transaction that advances a chain's watermark: wrap, unwrap, rekey_from (moved away),
-- rekey_to (moved onto it).
CREATE TABLE "audit_usage_key_uses" (
    "chain" TEXT NOT NULL,
    "tenant_key_id" TEXT NOT NULL,
    "use" TEXT NOT NULL,
    "items" BIGINT NOT NULL,
    "last_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "audit_usage_key_uses_pkey" PRIMARY KEY ("chain", "tenant_key_id", "use")
);

-- What the rollup had already counted, counted once more into the new table (a one-time read of
-- the events under each chain's watermark; from here on the rollup keeps it incrementally).
-- Events from before this release name a batch-unwrap's keys without per-key counts: a batch
-- under one key counts its items, one under several counts one per key.
INSERT INTO "audit_usage_key_uses" ("chain", "tenant_key_id", "use", "items", "last_at")
SELECT chain, left(key_id, 200), use, sum(n), max(occurred_at)
  FROM (
    SELECT e.chain, e.occurred_at, e.details ->> 'tenantKeyId' AS key_id,
           CASE WHEN e.action = 'key.unwrap' THEN 'unwrap' WHEN e.action = 'key.rekey' THEN 'rekey_to' ELSE 'wrap' END AS use,
           CASE WHEN e.action = 'key.batch_wrap' AND jsonb_typeof(e.details -> 'items') = 'number'
                THEN least(greatest((e.details ->> 'items')::numeric, 0), 1000000000)::bigint
                     - CASE WHEN jsonb_typeof(e.details -> 'failedItems') = 'array' THEN jsonb_array_length(e.details -> 'failedItems') ELSE 0 END
                ELSE 1 END AS n
      FROM audit_events e JOIN audit_usage_watermarks w ON w.chain = e.chain AND e.seq <= w.rolled_seq
     WHERE e.outcome = 'success' AND e.action IN ('key.wrap', 'key.batch_wrap', 'key.unwrap', 'key.rekey')
       AND jsonb_typeof(e.details -> 'tenantKeyId') = 'string'
    UNION ALL
    SELECT e.chain, e.occurred_at, e.details ->> 'fromTenantKeyId', 'rekey_from', 1
      FROM audit_events e JOIN audit_usage_watermarks w ON w.chain = e.chain AND e.seq <= w.rolled_seq
     WHERE e.outcome = 'success' AND e.action = 'key.rekey' AND jsonb_typeof(e.details -> 'fromTenantKeyId') = 'string'
    UNION ALL
    SELECT e.chain, e.occurred_at, k.id, 'unwrap',
           CASE WHEN jsonb_array_length(e.details -> 'tenantKeyIds') = 1 AND jsonb_typeof(e.details -> 'items') = 'number'
                THEN least(greatest((e.details ->> 'items')::numeric, 0), 1000000000)::bigint
                     - CASE WHEN jsonb_typeof(e.details -> 'failedItems') = 'array' THEN jsonb_array_length(e.details -> 'failedItems') ELSE 0 END
                ELSE 1 END
      FROM audit_events e JOIN audit_usage_watermarks w ON w.chain = e.chain AND e.seq <= w.rolled_seq
     CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.details -> 'tenantKeyIds') = 'array' THEN e.details -> 'tenantKeyIds' ELSE '[]'::jsonb END) AS k(id)
     WHERE e.outcome = 'success' AND e.action = 'key.batch_unwrap' AND jsonb_typeof(e.details -> 'tenantKeyIds') = 'array'
  ) u
 WHERE key_id IS NOT NULL AND n > 0
 GROUP BY 1, 2, 3;
