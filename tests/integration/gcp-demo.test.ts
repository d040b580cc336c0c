import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";
import { GCP_DEMO_TENANT, gcpDemoTenantKey, startGcpDemoKms } from "@/lib/dev/demo/gcp-demo";
import { seedDemo } from "@/lib/dev/demo/seed";
import { registerKmsKey, verifyKmsKey } from "@/lib/keys";
import { keyRefOf, kmsClient, setKmsClientForTests } from "@/lib/kms";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The demo's Google Cloud tenant: Hooli's key in the development Cloud KMS already admits
// Custody, so its admin registers and verifies it at once; the development Cloud KMS keeps its
// keys (and Custody's key file) in the data folder, so the wrapped tenant key opens after a restart.

let database: TestDatabase;
let dataDir: string;
const saved = { file: process.env.GCP_KMS_CREDENTIALS_FILE, endpoint: process.env.GCP_KMS_ENDPOINT };

function useSettings(settings: { GCP_KMS_CREDENTIALS_FILE: string; GCP_KMS_ENDPOINT: string }) {
  Object.assign(process.env, settings);
  setKmsClientForTests("gcp", undefined);
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-gcp-demo-"));
  await seedDemo();
});

afterAll(async () => {
  setKmsClientForTests("gcp", undefined);
  for (const [name, value] of [["GCP_KMS_CREDENTIALS_FILE", saved.file], ["GCP_KMS_ENDPOINT", saved.endpoint]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  await disconnectDb();
  await database?.drop();
});

describe("the demo's Google Cloud tenant", () => {
  it("has a key that admits Custody at once, and what it wrapped opens after the development Cloud KMS restarts", async () => {
    let kms = await startGcpDemoKms(dataDir);
    useSettings(kms.settings);
    const name = await gcpDemoTenantKey(getConfig());
    expect(name).toMatch(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/custody-demo\/cryptoKeys\/hooli$/);
    // A second start finds the tenant and the key again.
    expect(await gcpDemoTenantKey(getConfig())).toBe(name);
    expect(await getDb().tenant.count({ where: { slug: GCP_DEMO_TENANT.slug } })).toBe(1);

    const tenant = await getDb().tenant.findUniqueOrThrow({ where: { slug: GCP_DEMO_TENANT.slug } });
    const admin = await getDb().user.findUniqueOrThrow({ where: { email: GCP_DEMO_TENANT.adminEmail } });
    const caller = { userId: admin.id, request: { sourceIp: "198.51.100.8", userAgent: "vitest", requestId: "req-gcp-demo" } };
    const { kmsKeyId } = await registerKmsKey(caller, { tenantId: tenant.id, provider: "gcp", fields: { name: name! } });
    expect(await verifyKmsKey(caller, { tenantId: tenant.id, kmsKeyId })).toMatchObject({ ok: true, becamePrimary: true });

    const stored = await getDb().kmsKey.findUniqueOrThrow({ where: { id: kmsKeyId } });
    const tenantKey = await getDb().tenantKey.findFirstOrThrow({ where: { tenantId: tenant.id, kmsKeyId } });
    const binding = { tenantId: tenant.id };
    const before = await kmsClient("gcp").unwrapTenantKey(keyRefOf(stored), tenantKey.wrappedKey, binding);

    await kms.close();
    kms = await startGcpDemoKms(dataDir);
    useSettings(kms.settings);
    try {
      await expect(kmsClient("gcp").unwrapTenantKey(keyRefOf(stored), tenantKey.wrappedKey, binding)).resolves.toEqual(before);
    } finally {
      await kms.close();
    }
  });
});
