import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "@/lib/config";
import { disconnectDb, getDb } from "@/lib/db";
import { registerKmsKey, verifyKmsKey } from "@/lib/keys";
import { KMS_PROVIDERS } from "@/lib/kms";
import { createTenant } from "@/lib/tenants";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { ENCRYPTER_DECRYPTER, gcpKmsEnvironment, pointGcpKmsAt, startTestDevGcpKms, VIEWER, type TestDevGcpKms } from "../helpers/dev-gcp-kms";
import { api, KeyServiceFixture, type KeyServiceInstance } from "../helpers/key-service";
import { refusal } from "../helpers/refusal";

// A tenant on Google Cloud KMS, end to end through Custody's own code: the console's register
// and verify (through the registry's GCP client, built from lib/config as in production), then
// real key-service processes configured by environment (Custody's key file and the endpoint)
// leasing the tenant key through @google-cloud/kms from the development Cloud KMS.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let dev: TestDevGcpKms;
let dir: string;
let undoGcp: () => void = () => {};
let token: string;
let service: KeyServiceInstance;

const meta = () => ({ dataLabel: "invoices", objectId: "inv-1", actor: "user:42", reason: "render" });
const gcpKey = (tenantId: string, name: string) => ({ tenantId, provider: "gcp", fields: { name } });

async function newTenant(slug: string) {
  const { tenantId } = await createTenant(fixture.vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
  return { tenantId, admin: await fixture.callerFor(`admin@${slug}.example`) };
}

/** A tenant whose Cloud KMS key admits Custody, registered and verified. */
async function tenantOnGcp(slug: string) {
  const tenant = await newTenant(slug);
  const name = await dev.createKey("custody", slug);
  await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
  const { kmsKeyId } = await registerKmsKey(tenant.admin, gcpKey(tenant.tenantId, name));
  const verified = await verifyKmsKey(tenant.admin, { tenantId: tenant.tenantId, kmsKeyId });
  if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified.steps)}`);
  return { ...tenant, name, kmsKeyId };
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  dev = await startTestDevGcpKms();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-gcp-keys-"));
  undoGcp = pointGcpKmsAt(dev, dir);
  token = (await fixture.credential({ name: "gcp-app" })).token;
});

afterAll(async () => {
  undoGcp();
  await fixture?.close();
  await dev?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await disconnectDb();
  await database?.drop();
});

describe("registering a Cloud KMS key", () => {
  it("refuses malformed resource names with the field's message and stores nothing", async () => {
    const t = await newTenant("gcp-bad-input");
    const names = ["", "projects/acme-prod/keyRings/r/cryptoKeys/k", "projects/acme-customer/locations/europe-west1/keyRings/custody/cryptoKeys/k/cryptoKeyVersions/1"];
    for (const name of names) {
      const refused = await refusal(registerKmsKey(t.admin, gcpKey(t.tenantId, name)));
      expect(refused.code).toBe("bad_request");
      expect(refused.fieldErrors?.name?.[0]).toMatch(/resource name|has the form|names a key version/);
    }
    expect(await refusal(registerKmsKey(t.admin, { tenantId: t.tenantId, provider: "gcp-ish", fields: { name: "x" } }))).toMatchObject({ code: "bad_request" });
    expect(await getDb().kmsKey.count({ where: { tenantId: t.tenantId } })).toBe(0);
  });
});

describe("verifying a Cloud KMS key", () => {
  it("fails at Encrypt until the key's IAM policy admits Custody, then succeeds and makes the key primary", async () => {
    const t = await newTenant("gcp-verify");
    const name = await dev.createKey("custody", "gcp-verify");
    const { kmsKeyId } = await registerKmsKey(t.admin, gcpKey(t.tenantId, name));
    const stored = await getDb().kmsKey.findUniqueOrThrow({ where: { id: kmsKeyId } });
    expect(stored).toMatchObject({ provider: "gcp", keyRef: name, keyDetails: { project: "acme-customer", location: "europe-west1", keyRing: "custody", cryptoKey: "gcp-verify" } });

    const denied = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(denied).toMatchObject({ ok: false, failure: "access_denied", becamePrimary: false });
    expect(denied.steps.map((s) => [s.step, s.ok])).toEqual([["Encrypt", false], ["Decrypt", false], ["GetCryptoKey", false]]);
    expect(denied.steps[0]!.message).toMatch(/roles\/cloudkms\.cryptoKeyEncrypterDecrypter/);

    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER]);
    // Wrapping works, but reading the key needs the viewer role too.
    expect(await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId })).toMatchObject({ ok: false, failure: "access_denied" });

    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const verified = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(verified).toMatchObject({ ok: true, becamePrimary: true });
    expect(verified.steps.map((s) => [s.step, s.ok])).toEqual([["Encrypt", true], ["Decrypt", true], ["GetCryptoKey", true]]);
    const tenantKey = await getDb().tenantKey.findFirstOrThrow({ where: { tenantId: t.tenantId } });
    expect(tenantKey.kmsKeyId).toBe(kmsKeyId);
  });

  it("names a disabled primary version and a destroyed one", async () => {
    const t = await newTenant("gcp-states");
    const name = await dev.createKey("custody", "gcp-states");
    await dev.grantVendor(name, [ENCRYPTER_DECRYPTER, VIEWER]);
    const { kmsKeyId } = await registerKmsKey(t.admin, gcpKey(t.tenantId, name));
    const version = `${name}/cryptoKeyVersions/1`;
    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version, state: "DISABLED" }, updateMask: { paths: ["state"] } });
    const disabled = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(disabled).toMatchObject({ ok: false, failure: "key_disabled" });
    expect(disabled.steps[0]!.message).toMatch(/gcloud kms keys versions enable/);
    await dev.admin.destroyCryptoKeyVersion({ name: version });
    const destroyed = await verifyKmsKey(t.admin, { tenantId: t.tenantId, kmsKeyId });
    expect(destroyed).toMatchObject({ ok: false, failure: "invalid_state" });
    expect(destroyed.steps[0]!.message).toMatch(/destroyed or scheduled for destruction/);
  });

  it("shows the customer the gcloud bindings for Custody's service account", () => {
    const key = { provider: "gcp" as const, ref: "projects/acme-customer/locations/europe-west1/keyRings/custody/cryptoKeys/k", details: {} };
    const blocks = KMS_PROVIDERS.gcp.instructions({ key, tenant: { id: "t", slug: "acme" }, config: getConfig() });
    expect(blocks[0]!.code).toContain(`--member serviceAccount:${dev.vendorKey.client_email} --role roles/cloudkms.cryptoKeyEncrypterDecrypter`);
  });
});

describe("the key service on a Cloud KMS tenant", () => {
  beforeAll(async () => {
    service = await fixture.instance({ ...gcpKmsEnvironment(dev, dir), KEY_LEASE_SECONDS: "1" });
  });

  it("wraps and unwraps data keys with the tenant key leased through Cloud KMS, for that tenant only", async () => {
    const acme = await tenantOnGcp("gcp-acme");
    const globex = await tenantOnGcp("gcp-globex");
    const wrapped = await api<{ dek: string; edek: string }>(service.url, token, "wrap", { tenantId: acme.tenantId, metadata: meta() });
    expect(wrapped.status).toBe(200);
    const unwrapped = await api<{ dek: string }>(service.url, token, "unwrap", { tenantId: acme.tenantId, edek: wrapped.body.edek, metadata: meta() });
    expect(unwrapped).toMatchObject({ status: 200, body: { dek: wrapped.body.dek } });
    const crossTenant = await api(service.url, token, "unwrap", { tenantId: globex.tenantId, edek: wrapped.body.edek, metadata: meta() });
    expect(crossTenant.status).not.toBe(200);
    expect(dev.server.calls().Decrypt).toBeGreaterThan(0);
  });

  it("retries Cloud KMS throttling during a renewal, and a version disabled in the customer's KMS bites at the next one", async () => {
    const t = await tenantOnGcp("gcp-renewal");
    const first = await api<{ edek: string }>(service.url, token, "wrap", { tenantId: t.tenantId, metadata: meta() });
    expect(first.status).toBe(200);
    const body = { tenantId: t.tenantId, edek: first.body.edek, metadata: meta() };
    const decrypts = () => dev.server.calls().Decrypt ?? 0;

    // Call until a renewal has made its three Decrypt attempts (two throttled): every answer
    // meanwhile is 200 and no lease failure is recorded, because the throttling was retried away.
    dev.server.faults.throttleNext(2);
    const before = decrypts();
    const statuses = new Set<number>();
    await expect.poll(async () => {
      statuses.add((await api(service.url, token, "unwrap", body)).status);
      return decrypts() - before;
    }, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    expect((await api(service.url, token, "unwrap", body)).status).toBe(200);
    expect([...statuses]).toEqual([200]);
    const failures = await getDb().auditEvent.count({ where: { tenantId: t.tenantId, action: "key.lease_failed" } });
    expect(failures).toBe(0);

    await dev.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${t.name}/cryptoKeyVersions/1`, state: "DISABLED" }, updateMask: { paths: ["state"] } });
    await expect.poll(async () => (await api(service.url, token, "unwrap", body)).status, { timeout: 30_000 }).toBe(502);
    const refused = await api(service.url, token, "unwrap", body);
    expect(refused.body.error).toMatchObject({ code: "kms_denied", message: expect.stringMatching(/disabled/) });
    const key = await getDb().kmsKey.findUniqueOrThrow({ where: { id: t.kmsKeyId } });
    expect(key.lastError).toMatch(/disabled/);
  });
});
