import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import {
  type Datamodel,
  findSchemaDrift,
  generatedClientSchema,
  loadDatamodel,
  loadDatamodelFromSource,
  SCHEMA_PATH,
} from "../helpers/schema-drift";

// prisma/schema.prisma (what the code and the generated client believe) against a database
// built by the migrations in prisma/migrations (what production has).

function report(differences: string[]): string {
  return `prisma/schema.prisma and prisma/migrations disagree (${differences.length}):\n  - ${differences.join("\n  - ")}\n`;
}

// Expression, GIN and trigram indexes, which schema.prisma cannot express (see the migrations).
const SQL_ONLY_INDEXES = [
  "audit_search_text_idx",
  "audit_search_refs_idx",
  // Partial: a key reference is unique only among verified keys (migration 20261203120000).
  "kms_keys_key_ref_verified_key",
  // Partial: at most one running or failed KMS key rotation per tenant (migration 20261204100000).
  "kms_key_rotations_one_open_key",
];

let datamodel: Datamodel;
const databases: TestDatabase[] = [];

async function migratedDatabase(): Promise<string> {
  const db = await createTestDatabase();
  databases.push(db);
  return db.url;
}

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  datamodel = await loadDatamodel();
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

describe("schema drift", () => {
  it("the migrated database matches prisma/schema.prisma", async () => {
    const url = await migratedDatabase();
    const differences = await findSchemaDrift(url, datamodel, { ignoreIndexes: SQL_ONLY_INDEXES });
    expect(differences, report(differences)).toEqual([]);
  });

  it("the generated client is up to date with prisma/schema.prisma (else run `npx prisma generate`)", async () => {
    const [current, generated] = await Promise.all([readFile(SCHEMA_PATH, "utf8"), generatedClientSchema()]);
    expect(generated === current, "lib/db/generated was generated from a different schema.prisma").toBe(true);
  });
});

// The checker itself: it must notice drift in either direction.
describe("schema drift checker", () => {
  it("reports a database changed behind the schema's back", async () => {
    const url = await migratedDatabase();
    await execute(
      url,
      `ALTER TABLE "tenants" ADD COLUMN "extra" TEXT;
       ALTER TABLE "users" ALTER COLUMN "name" SET NOT NULL;
       ALTER TABLE "accounts" ALTER COLUMN "expires_at" TYPE BIGINT;
       ALTER TABLE "audit_chains" ALTER COLUMN "head_hash" TYPE VARCHAR(64);
       ALTER TABLE "vendor_admins" ALTER COLUMN "created_at" DROP DEFAULT;
       ALTER TYPE "tenant_role" ADD VALUE 'owner';
       DROP INDEX "sessions_user_id_idx";
       CREATE INDEX "tenants_name_idx" ON "tenants"("name");
       ALTER TABLE "memberships" DROP CONSTRAINT "memberships_tenant_id_fkey";
       ALTER TABLE "memberships" ADD CONSTRAINT "memberships_tenant_id_fkey"
         FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
       ALTER TABLE "service_credentials" ALTER COLUMN "scopes" TYPE TEXT[];
       CREATE TABLE "stray" ("id" INTEGER);`,
    );

    const differences = await findSchemaDrift(url, datamodel, { ignoreIndexes: SQL_ONLY_INDEXES });

    const expected = [
      /"tenants"\."extra": column exists in the database but not in model Tenant/,
      /User\.name \("users"\."name"\): NOT NULL in the database, optional in the schema/,
      /Account\.expires_at \("accounts"\."expires_at"\): is bigint in the database, Int @db\.Integer in the schema/,
      /AuditChain\.headHash \("audit_chains"\."head_hash"\): is character varying\(64\) in the database, String @db\.Char\(64\)/,
      /VendorAdmin\.createdAt .*: has no default in the database, @default\(now\(\)\) in the schema/,
      /enum TenantRole: "tenant_role" has 'owner' that the schema lacks/,
      /Session: index "sessions_user_id_idx" on "sessions"\(user_id\) is missing/,
      /index "tenants_name_idx" on "tenants"\(name\) exists in the database but not in the schema/,
      /Membership\.tenant: foreign key .* is ON DELETE Cascade in the database, Restrict in the schema/,
      /table "stray" exists in the database but no model maps to it/,
      /ServiceCredential\.scopes \("service_credentials"\."scopes"\): is text\[\] in the database, enum service_scope\[\] in the schema/,
    ];
    for (const pattern of expected) {
      expect(differences.some((d) => pattern.test(d)), `expected a difference matching ${pattern}\n${report(differences)}`).toBe(true);
    }
    expect(differences).toHaveLength(expected.length);
  });

  it("reports a schema changed without a migration", async () => {
    const url = await migratedDatabase();
    const source = await readFile(SCHEMA_PATH, "utf8");
    const edited = source
      .replace(/(model Tenant \{\n)/, `$1  plan        String?      @map("plan")\n`)
      .replace(/(  slug\s+String\s+)@unique/, "$1")
      .replace(/(  expires_at\s+Int)\?/, "$1")
      .replace(/(  AUDITOR @map\("auditor"\))/, `$1\n  OWNER   @map("owner")`)
      .replace(/(model AuditEvent \{[\s\S]*?)(  @@map\("audit_events"\))/, `$1  @@index([action])\n$2`);
    expect(edited).not.toBe(source);

    const differences = await findSchemaDrift(url, await loadDatamodelFromSource(edited), { ignoreIndexes: SQL_ONLY_INDEXES });

    const expected = [
      /Tenant\.plan \("tenants"\."plan"\): column is missing/,
      /unique index "tenants_slug_key" on "tenants"\(slug\) exists in the database but not in the schema/,
      /Account\.expires_at \("accounts"\."expires_at"\): nullable in the database, required in the schema/,
      /enum TenantRole: "tenant_role" lacks 'owner'/,
      /AuditEvent: index "audit_events_action_idx" on "audit_events"\(action\) is missing/,
    ];
    for (const pattern of expected) {
      expect(differences.some((d) => pattern.test(d)), `expected a difference matching ${pattern}\n${report(differences)}`).toBe(true);
    }
    expect(differences).toHaveLength(expected.length);
  });
});
