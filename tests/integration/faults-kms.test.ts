import { DisableKeyCommand, EnableKeyCommand } from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { disconnectDb, getDb } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { expectEveryAnswerAudited, expectOnlyCleanRefusals, type Load, loadOn } from "../helpers/key-service-load";

// Faults in the tenant's KMS while the vendor's application keeps calling: the development KMS
// throttles, answers slower than the AWS SDK waits, resets connections, and the customer
// disables the key mid-load. Key-service processes with one-second leases, so each fault meets
// lease renewals within seconds. Whatever happens, every answer is a 200 or the documented KMS
// code with its status (503s with Retry-After), never a 500; every answer is on the trail (the
// refusals too, with their code); the service recovers by itself once the fault is gone; the
// chains verify.

let database: TestDatabase;
let fixture: KeyServiceFixture;
/** One attempt per KMS call: each fault reaches the key service instead of being retried away. */
let strict: KeyServiceInstance;
let token: string;
let load: Load | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  token = (await fixture.credential({ name: "faults-app" })).token;
  strict = await fixture.instance({ KEY_LEASE_SECONDS: "1", KMS_MAX_ATTEMPTS: "1" });
});

afterEach(async () => {
  await load?.stop();
  load = undefined;
  fixture.kms.faults.reset();
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

/** A tenant with a key, an EDEK to unwrap, and load on it from 6 clients. */
async function loaded(slug: string, instance: KeyServiceInstance): Promise<{ tenant: TenantWithKey; load: Load }> {
  const tenant = await fixture.tenantWithKey(slug);
  const wrapped = await api<{ edek: string }>(instance.url, token, "wrap", { tenantId: tenant.tenantId, metadata: { dataLabel: "invoices" } });
  expect(wrapped.status).toBe(200);
  load = loadOn(() => instance.url, tenant, token, wrapped.body.edek, { singles: 6, batches: 0 });
  await load.firstSuccessAfter(Date.now());
  return { tenant, load };
}

async function leaseFailures(tenantId: string): Promise<string[]> {
  const events = await getDb().auditEvent.findMany({ where: { chain: tenantId, action: "key.lease_failed" }, select: { details: true } });
  return events.map((e) => (e.details as { reason?: string }).reason ?? "");
}

async function expectAfterwards(tenant: TenantWithKey, calls: Load["calls"], codes: string[]): Promise<void> {
  expectOnlyCleanRefusals(calls, codes);
  expect(calls.filter((c) => c.status === 0)).toEqual([]);
  await expectEveryAnswerAudited(database.url, calls, { refusals: codes });
  expect(await verifyStoredChain(tenant.tenantId)).toMatchObject({ intact: true });
  const answers = new Map<string, number>();
  for (const c of calls) answers.set(c.code ?? String(c.status), (answers.get(c.code ?? String(c.status)) ?? 0) + 1);
  console.log(`[faults] ${tenant.slug}: ${calls.length} calls, ${[...answers].map(([answer, n]) => `${n} ${answer}`).join(", ")}`);
}

describe("the development KMS under load", () => {
  it("throttles every request: kms_throttled with Retry-After once the lease runs out, audited; serves again when it stops", async () => {
    const { tenant, load } = await loaded("kms-throttling", strict);
    const since = Date.now();
    fixture.kms.faults.limitRate(0);
    await load.answeredWith("kms_throttled", since, 5);
    fixture.kms.faults.limitRate(undefined);
    await load.firstSuccessAfter(Date.now());
    await load.stop();
    await expectAfterwards(tenant, load.calls, ["kms_throttled"]);
    expect(await leaseFailures(tenant.tenantId)).toContain("throttled");
  });

  it("answers slower than the SDK waits: kms_unreachable with Retry-After, no call hangs; serves again when it is quick", async () => {
    const { tenant, load } = await loaded("kms-slow", strict);
    const since = Date.now();
    // Beyond the AWS provider's 5 s request timeout, for the next few KMS requests.
    fixture.kms.faults.delayNext(8_000, 3);
    await load.answeredWith("kms_unreachable", since, 3);
    fixture.kms.faults.reset();
    await load.firstSuccessAfter(Date.now());
    await load.stop();
    await expectAfterwards(tenant, load.calls, ["kms_unreachable"]);
    expect(await leaseFailures(tenant.tenantId)).toContain("unreachable");
  });

  it("resets connections: retried away by the SDK when it may retry, kms_unreachable when it may not; serves again after", async () => {
    const patient = await fixture.instance({ KEY_LEASE_SECONDS: "1" });
    const retried = await loaded("kms-reset-retried", patient);
    // Two resets, three attempts per call: every renewal still succeeds.
    const resetsBefore = fixture.kms.calls().Decrypt ?? 0;
    fixture.kms.faults.resetNext(2, "Decrypt");
    await expect.poll(() => (fixture.kms.calls().Decrypt ?? 0) - resetsBefore, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await retried.load.firstSuccessAfter(Date.now());
    await retried.load.stop();
    await expectAfterwards(retried.tenant, retried.load.calls, []);
    await patient.stop();

    const { tenant, load } = await loaded("kms-reset", strict);
    const since = Date.now();
    fixture.kms.faults.resetNext(1_000, "Decrypt");
    await load.answeredWith("kms_unreachable", since, 3);
    fixture.kms.faults.reset();
    await load.firstSuccessAfter(Date.now());
    await load.stop();
    await expectAfterwards(tenant, load.calls, ["kms_unreachable"]);
  });

  it("the customer disables the key mid-load: kms_denied at the next renewal, every call after refused, serves again once re-enabled", async () => {
    const { tenant, load } = await loaded("kms-disabled", strict);
    await fixture.customer.send(new DisableKeyCommand({ KeyId: tenant.kmsKeyArn }));
    const disabledAt = Date.now();
    await load.answeredWith("kms_denied", disabledAt, 5);
    const deniedAt = load.calls.find((c) => c.sentAt >= disabledAt && c.code === "kms_denied")!.answeredAt;
    await load.answeredWith("kms_denied", deniedAt, 10);
    // Once the refusal ended the lease, no call sent afterwards succeeded while the key stayed disabled.
    const enabledAt = Date.now();
    expect(load.calls.filter((c) => c.sentAt > deniedAt && c.sentAt < enabledAt && c.status === 200).map((c) => c.requestId)).toEqual([]);
    // The tenant's key page says why.
    const lastError = async () => (await getDb().kmsKey.findUniqueOrThrow({ where: { id: tenant.kmsKeyId } })).lastError;
    expect(await lastError()).toMatch(/disabled/);
    await fixture.customer.send(new EnableKeyCommand({ KeyId: tenant.kmsKeyArn }));
    await load.firstSuccessAfter(Date.now());
    await load.stop();
    await expectAfterwards(tenant, load.calls, ["kms_denied"]);
    expect(await leaseFailures(tenant.tenantId)).toContain("key_disabled");
    await expect.poll(lastError, { timeout: 30_000 }).toBeNull();
  });
});
