-- Service credentials: what the vendor's application authenticates to the key service with.
-- Only the sha256 of each secret is stored. Rotation leaves the predecessor active (at most two
-- active per name, enforced by lib/credentials under an advisory lock on the name).

CREATE TYPE "service_scope" AS ENUM ('wrap', 'unwrap', 'rekey');

CREATE TABLE "service_credentials" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "scopes" "service_scope"[] NOT NULL,
    "tenant_id" UUID,
    "secret_hash" BYTEA NOT NULL,
    "created_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by_id" UUID,
    "rotated_from_id" UUID,
    CONSTRAINT "service_credentials_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_credentials_name_length" CHECK (char_length("name") BETWEEN 1 AND 100),
    CONSTRAINT "service_credentials_scopes_not_empty" CHECK (cardinality("scopes") >= 1),
    CONSTRAINT "service_credentials_secret_hash_sha256" CHECK (octet_length("secret_hash") = 32),
    CONSTRAINT "service_credentials_not_own_predecessor" CHECK ("rotated_from_id" IS DISTINCT FROM "id")
);
CREATE INDEX "service_credentials_tenant_id_idx" ON "service_credentials"("tenant_id");

ALTER TABLE "service_credentials" ADD CONSTRAINT "service_credentials_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "service_credentials" ADD CONSTRAINT "service_credentials_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "service_credentials" ADD CONSTRAINT "service_credentials_revoked_by_id_fkey" FOREIGN KEY ("revoked_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "service_credentials" ADD CONSTRAINT "service_credentials_rotated_from_id_fkey" FOREIGN KEY ("rotated_from_id") REFERENCES "service_credentials"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
