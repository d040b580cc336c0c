-- Customer keys as customers really use them (issue 12, issue 13 finding 1):
-- * every grant Custody was given is kept (grant_ids), so revocation retires all of them;
-- * the last attempt is kept beside the last success: last_verified_at is success only;
-- * a failed verification is no longer a state: keys that were left in 'error' get the state
--   they really have (the tenant's primary → active; a key that wraps tenant keys → previous;
--   otherwise it never became usable → pending_verification). The enum value stays (unused).
-- * an ARN is unique only among keys that were verified (not pending), so a pending
--   registration, which proves nothing, cannot block the key's owner.

ALTER TABLE "kms_keys" ADD COLUMN "grant_ids" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
UPDATE "kms_keys" SET "grant_ids" = ARRAY["grant_id"] WHERE "grant_id" IS NOT NULL;
ALTER TABLE "kms_keys" DROP COLUMN "grant_id";

ALTER TABLE "kms_keys" ADD COLUMN "last_attempt_at" TIMESTAMPTZ(3);
ALTER TABLE "kms_keys" ADD COLUMN "last_attempt_ok" BOOLEAN;
ALTER TABLE "kms_keys" ADD COLUMN "last_error_kind" TEXT;

UPDATE "kms_keys" k SET "last_attempt_at" = k."last_verified_at", "last_attempt_ok" = (k."status" <> 'error')
  WHERE k."last_verified_at" IS NOT NULL;
UPDATE "kms_keys" k SET "last_verified_at" = NULL
  WHERE k."status" = 'error' AND NOT EXISTS (SELECT 1 FROM "tenant_keys" t WHERE t."kms_key_id" = k."id");
UPDATE "kms_keys" k SET "status" = CASE
    WHEN EXISTS (SELECT 1 FROM "tenants" t WHERE t."primary_kms_key_id" = k."id") THEN 'active'::"kms_key_status"
    WHEN EXISTS (SELECT 1 FROM "tenant_keys" t WHERE t."kms_key_id" = k."id") THEN 'previous'::"kms_key_status"
    ELSE 'pending_verification'::"kms_key_status"
  END
  WHERE k."status" = 'error';

DROP INDEX "kms_keys_arn_key";
CREATE INDEX "kms_keys_arn_idx" ON "kms_keys"("arn");
CREATE UNIQUE INDEX "kms_keys_tenant_id_arn_key" ON "kms_keys"("tenant_id", "arn");
CREATE UNIQUE INDEX "kms_keys_arn_verified_key" ON "kms_keys"("arn") WHERE "status" <> 'pending_verification';
