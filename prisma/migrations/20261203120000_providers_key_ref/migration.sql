-- One provider interface (issue 15, item 1): a customer's key is a provider name, a canonical
-- reference (key_ref, unique per provider) and provider-specific details (key_details, jsonb)
-- that only the provider's folder in lib/kms/providers reads. The AWS columns move into them:
-- the ARN becomes key_ref; partition (from the ARN), region, account id, multi-Region and the
-- recorded grant ids become key_details. Existing rows keep working unchanged.

ALTER TABLE "kms_keys" ADD COLUMN "key_ref" TEXT;
ALTER TABLE "kms_keys" ADD COLUMN "key_details" JSONB NOT NULL DEFAULT '{}';

UPDATE "kms_keys" SET
  "key_ref" = "arn",
  "key_details" = jsonb_build_object(
    'partition', split_part("arn", ':', 2),
    'region', "region",
    'accountId', "account_id",
    'multiRegion', "multi_region",
    'grantIds', to_jsonb("grant_ids")
  );

ALTER TABLE "kms_keys" ALTER COLUMN "key_ref" SET NOT NULL;
ALTER TABLE "kms_keys" ALTER COLUMN "provider" DROP DEFAULT;

DROP INDEX "kms_keys_arn_verified_key";
DROP INDEX "kms_keys_tenant_id_arn_key";
DROP INDEX "kms_keys_arn_idx";

ALTER TABLE "kms_keys" DROP COLUMN "arn";
ALTER TABLE "kms_keys" DROP COLUMN "region";
ALTER TABLE "kms_keys" DROP COLUMN "account_id";
ALTER TABLE "kms_keys" DROP COLUMN "multi_region";
ALTER TABLE "kms_keys" DROP COLUMN "grant_ids";

CREATE INDEX "kms_keys_provider_key_ref_idx" ON "kms_keys"("provider", "key_ref");
CREATE UNIQUE INDEX "kms_keys_tenant_id_provider_key_ref_key" ON "kms_keys"("tenant_id", "provider", "key_ref");
-- A key is unique only among keys that were verified (not pending), so a pending registration,
-- which proves nothing, cannot block the key's owner (as migration 20261202200000 did for ARNs).
CREATE UNIQUE INDEX "kms_keys_key_ref_verified_key" ON "kms_keys"("provider", "key_ref") WHERE "status" <> 'pending_verification';
