-- Customer keys: the tenant's KMS keys, the tenant keys they wrap, and the revocation state.

CREATE TYPE "kms_key_status" AS ENUM ('pending_verification', 'active', 'previous', 'revoked', 'error');
CREATE TYPE "tenant_key_status" AS ENUM ('active', 'revoked');

ALTER TABLE "tenants"
    ADD COLUMN "primary_kms_key_id" UUID,
    ADD COLUMN "access_revoked_at" TIMESTAMPTZ(3),
    ADD COLUMN "access_revoked_by_id" UUID;
CREATE UNIQUE INDEX "tenants_primary_kms_key_id_key" ON "tenants"("primary_kms_key_id");

CREATE TABLE "kms_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "provider" TEXT NOT NULL DEFAULT 'aws',
    "arn" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "multi_region" BOOLEAN NOT NULL,
    "status" "kms_key_status" NOT NULL DEFAULT 'pending_verification',
    "registered_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_verified_at" TIMESTAMPTZ(3),
    "last_verify_steps" JSONB,
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "grant_id" TEXT,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "kms_keys_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "kms_keys_arn_key" ON "kms_keys"("arn");
CREATE INDEX "kms_keys_tenant_id_created_at_idx" ON "kms_keys"("tenant_id", "created_at");

CREATE TABLE "tenant_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kms_key_id" UUID NOT NULL,
    "wrapped_key" BYTEA NOT NULL,
    "status" "tenant_key_status" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "tenant_keys_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "tenant_keys_tenant_id_created_at_idx" ON "tenant_keys"("tenant_id", "created_at");
CREATE INDEX "tenant_keys_kms_key_id_idx" ON "tenant_keys"("kms_key_id");

ALTER TABLE "tenants" ADD CONSTRAINT "tenants_primary_kms_key_id_fkey" FOREIGN KEY ("primary_kms_key_id") REFERENCES "kms_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "kms_keys" ADD CONSTRAINT "kms_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "tenant_keys" ADD CONSTRAINT "tenant_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "tenant_keys" ADD CONSTRAINT "tenant_keys_kms_key_id_fkey" FOREIGN KEY ("kms_key_id") REFERENCES "kms_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
