-- Rotating a tenant's KMS key (issue 16, "Rotation" 1): every tenant key wrapped by the old KMS
-- key is re-wrapped under the new one (Decrypt with the old, wrap with the new), one row update
-- per tenant key, so every EDEK keeps working and the old key can then be retired.
--
-- * tenant_keys keeps, while a rotation is unfinished, the wrapped form and KMS key a re-wrap
--   replaced: a roll back puts them back without calling any KMS, so a tenant is never without a
--   working key. The rotation's completion clears them.
-- * kms_key_rotations: one row per rotation, claimed by a worker with a lease (a crashed worker's
--   rotation is resumed by another once the lease has run out). At most one running or failed
--   (stopped, awaiting the admin's resume or roll back) rotation per tenant.
-- * kms_keys may be retired (a new state) once nothing depends on them: never used again.

ALTER TYPE "kms_key_status" ADD VALUE 'retired';
ALTER TABLE "kms_keys" ADD COLUMN "retired_at" TIMESTAMPTZ(3);

ALTER TABLE "tenant_keys" ADD COLUMN "previous_wrapped_key" BYTEA;
ALTER TABLE "tenant_keys" ADD COLUMN "previous_kms_key_id" UUID;

CREATE TABLE "kms_key_rotations" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "from_kms_key_id" UUID NOT NULL,
    "to_kms_key_id" UUID NOT NULL,
    "state" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "rewrapped" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_error_kind" TEXT,
    "started_by_id" UUID,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "kms_key_rotations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "kms_key_rotations_state_check" CHECK ("state" IN ('running', 'failed', 'completed', 'rolled_back')),
    CONSTRAINT "kms_key_rotations_keys_differ" CHECK ("from_kms_key_id" <> "to_kms_key_id")
);

CREATE INDEX "kms_key_rotations_tenant_id_started_at_idx" ON "kms_key_rotations"("tenant_id", "started_at");
CREATE INDEX "kms_key_rotations_state_idx" ON "kms_key_rotations"("state");
CREATE UNIQUE INDEX "kms_key_rotations_one_open_key" ON "kms_key_rotations"("tenant_id") WHERE "state" IN ('running', 'failed');

ALTER TABLE "kms_key_rotations" ADD CONSTRAINT "kms_key_rotations_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "kms_key_rotations" ADD CONSTRAINT "kms_key_rotations_from_kms_key_id_fkey" FOREIGN KEY ("from_kms_key_id") REFERENCES "kms_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "kms_key_rotations" ADD CONSTRAINT "kms_key_rotations_to_kms_key_id_fkey" FOREIGN KEY ("to_kms_key_id") REFERENCES "kms_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
