import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_VENDOR, devKmsClientConfig, devKmsVendorCredentialSettings } from "@/lib/dev/kms/defaults";
import { applyMigrations } from "@/lib/db/migrate";
import { loadTenantKeyState } from "@/lib/keys/tenant-key-state";
import { keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG } from "@/lib/kms/providers/aws/client";
import { awsCredentials } from "@/lib/kms/providers/aws/credentials";
import { tenantContext } from "@/lib/kms/providers/aws/encryption-context";
import { keyPolicyAdmitting } from "@/lib/kms/providers/aws/instructions";
import { createAwsKmsClient } from "@/lib/kms/providers/aws/kms-client";
import { createEmptyDatabase, type TestDatabase } from "../helpers/db";
import { startTestDevKms, type TestDevKms } from "../helpers/dev-kms";

// Migration 20261203120000 moves kms_keys' AWS columns (arn, region, account_id, multi_region,
// grant_ids) into key_ref + key_details. A database holding rows of the old shape — a verified
// key with a tenant key wrapped by the development KMS, its recorded grants, and another
// tenant's pending registration of the same ARN — is migrated, and those rows keep working
// through today's code: the tenant key unwraps, the AWS provider reads region and grants.

const MIGRATION = "20261203120000_providers_key_ref";
const root = process.cwd();
const TENANT = "6f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f";
const OTHER = "7f1c1c2e-8a39-4d7e-9d7a-1a2b3c4d5e6f";
const GRANTS = ["a".repeat(64), "b".repeat(64)];

let devKms: TestDevKms;
let database: TestDatabase;
let before: string;

beforeAll(async () => {
  devKms = await startTestDevKms();
  database = await createEmptyDatabase();
  before = await mkdtemp(path.join(tmpdir(), "custody-migrations-"));
  // Every migration before this one (later ones may build on it).
  for (const name of await readdir(path.join(root, "prisma/migrations"))) {
    if (name < MIGRATION) await cp(path.join(root, "prisma/migrations", name), path.join(before, name), { recursive: true });
  }
  await applyMigrations(database.url, { migrationsDir: before });
});

afterAll(async () => {
  await database?.drop();
  await devKms?.stop();
  if (before) await rm(before, { recursive: true, force: true });
});

describe("the migration to provider-neutral key references", () => {
  it("keeps old-shaped AWS keys working: reference, details, grants, uniqueness and the wrapped tenant key", async () => {
    const customer = new KMSClient(devKmsClientConfig(devKms.kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
    const policy = keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId: TENANT, tenantSlug: "acme" }] });
    const arn = (await customer.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
    customer.destroy();
    const aws = createAwsKmsApi({
      ...DEFAULT_AWS_KMS_CONFIG,
      partition: "aws",
      endpoint: devKms.kms.endpoint,
      credentials: awsCredentials(devKmsVendorCredentialSettings(devKms.kms.endpoint)),
    });
    const tenantKey = await aws.generateDataKey(arn, tenantContext(TENANT));

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("INSERT INTO tenants (id, slug, name) VALUES ($1, 'acme', 'Acme'), ($2, 'other', 'Other')", [TENANT, OTHER]);
      const key = await client.query<{ id: string }>(
        `INSERT INTO kms_keys (id, tenant_id, arn, region, account_id, multi_region, status, grant_ids)
         VALUES (gen_random_uuid(), $1, $2, 'us-east-1', $3, false, 'active', $4) RETURNING id`,
        [TENANT, arn, DEV_KMS_ACCOUNT_ID, GRANTS],
      );
      const kmsKeyId = key.rows[0]!.id;
      await client.query(
        `INSERT INTO kms_keys (id, tenant_id, arn, region, account_id, multi_region, status) VALUES (gen_random_uuid(), $1, $2, 'us-east-1', $3, false, 'pending_verification')`,
        [OTHER, arn, DEV_KMS_ACCOUNT_ID],
      );
      await client.query("INSERT INTO tenant_keys (id, tenant_id, kms_key_id, wrapped_key) VALUES (gen_random_uuid(), $1, $2, $3)", [TENANT, kmsKeyId, tenantKey.ciphertext]);
      await client.query("UPDATE tenants SET primary_kms_key_id = $2 WHERE id = $1", [TENANT, kmsKeyId]);

      await applyMigrations(database.url, { migrationsDir: path.join(root, "prisma/migrations") });

      const { rows } = await client.query<{ provider: string; key_ref: string; key_details: unknown }>(
        "SELECT provider, key_ref, key_details FROM kms_keys WHERE id = $1",
        [kmsKeyId],
      );
      expect(rows[0]).toEqual({
        provider: "aws",
        key_ref: arn,
        key_details: { partition: "aws", region: "us-east-1", accountId: DEV_KMS_ACCOUNT_ID, multiRegion: false, grantIds: GRANTS },
      });
      const ref = keyRefOf({ provider: rows[0]!.provider, keyRef: rows[0]!.key_ref, keyDetails: rows[0]!.key_details });
      expect(KMS_PROVIDERS.aws.display.location(ref)).toBe("us-east-1");
      expect(KMS_PROVIDERS.aws.revocation.handles?.read(ref.details)).toEqual(GRANTS);

      // The tenant key wrapped before the migration unwraps through today's key-state read and provider.
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      const state = await loadTenantKeyState(pool, TENANT).finally(() => pool.end());
      expect(state?.primary?.kmsKey).toEqual(ref);
      const material = await createAwsKmsClient(aws).unwrapTenantKey(state!.primary!.kmsKey, state!.primary!.wrappedKey, { tenantId: TENANT });
      expect(material.equals(tenantKey.plaintext)).toBe(true);

      // A verified reference stays unique across tenants; the other tenant's pending registration survived.
      expect(Number((await client.query("SELECT count(*) FROM kms_keys WHERE key_ref = $1", [arn])).rows[0].count)).toBe(2);
      await expect(client.query("UPDATE kms_keys SET status = 'active' WHERE tenant_id = $1", [OTHER])).rejects.toMatchObject({ code: "23505" });
    } finally {
      await client.end();
    }
  });
});
