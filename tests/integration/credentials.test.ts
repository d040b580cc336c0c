import { timingSafeEqual } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import {
  CREDENTIALS_CHANNEL,
  createServiceCredential,
  hashServiceSecret,
  listServiceCredentials,
  loadCredentialForAuth,
  parseServiceToken,
  revokeServiceCredential,
  rotateServiceCredential,
  touchCredentialsLastUsed,
} from "@/lib/credentials";
import { disconnectDb, getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { Caller } from "@/lib/authz";
import { createTenant } from "@/lib/tenants";
import { createTestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";

// Service credentials as the data layer enforces them, on real PostgreSQL: one-time tokens
// stored hashed, vendor admins only, rotation with at most two active per name, immediate
// revocation announced over NOTIFY, and every action in the vendor's and the tenant's trails.

const request: RequestMeta = { sourceIp: "198.51.100.4", userAgent: "vitest", requestId: "req-credentials-1" };
let database: { url: string; drop: () => Promise<void> };
let vendor: Caller;
let acme: { tenantId: string; admin: Caller };
/** Every token issued in this file, to prove none of it reaches the audit trail. */
const issued: string[] = [];

async function callerFor(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

async function events(chain: string | null) {
  return getDb().auditEvent.findMany({ where: { chain: chain ?? "vendor" }, orderBy: { seq: "asc" } });
}

async function create(input: { name: string; scopes: Array<"wrap" | "unwrap" | "rekey">; tenantId?: string }, caller = vendor) {
  const created = await createServiceCredential(caller, input);
  issued.push(created.token);
  return created;
}

async function rotate(credentialId: string, caller = vendor) {
  const rotated = await rotateServiceCredential(caller, { credentialId });
  issued.push(rotated.token);
  return rotated;
}

/** Listens on the credentials channel while `fn` runs; returns what was heard. */
async function listening(fn: () => Promise<void>, expected: string[]): Promise<void> {
  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  const heard: string[] = [];
  listener.on("notification", (n) => {
    if (n.channel === CREDENTIALS_CHANNEL) heard.push(n.payload ?? "");
  });
  await listener.query(`LISTEN ${CREDENTIALS_CHANNEL}`);
  try {
    await fn();
    await expect.poll(() => heard, { timeout: 20_000 }).toEqual(expected);
  } finally {
    await listener.end();
  }
}

/** The state of the credentials table and the trail, to show a refusal changed nothing. */
async function snapshot() {
  const db = getDb();
  return {
    credentials: await db.serviceCredential.findMany({ orderBy: { id: "asc" }, select: { id: true, revokedAt: true, lastUsedAt: true } }),
    events: await db.auditEvent.count(),
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
  const { tenantId } = await createTenant(vendor, { name: "Acme", slug: "acme", adminEmail: "ada@acme.example" });
  acme = { tenantId, admin: await callerFor("ada@acme.example") };
});

afterAll(async () => {
  await disconnectDb();
  await database.drop();
});

describe("creating credentials", () => {
  it("returns a one-time token that parses and whose secret hashes to what is stored", async () => {
    const created = await create({ name: "billing-app", scopes: ["unwrap", "wrap", "wrap"] });
    const parsed = parseServiceToken(created.token);
    expect(parsed?.id).toBe(created.id);

    const stored = await loadCredentialForAuth(created.id);
    expect(stored).toMatchObject({ id: created.id, name: "billing-app", scopes: ["wrap", "unwrap"], tenantId: null, revokedAt: null });
    expect(stored!.secretHash).toBeInstanceOf(Buffer);
    expect(stored!.secretHash).toHaveLength(32);
    expect(timingSafeEqual(hashServiceSecret(parsed!.secret), stored!.secretHash)).toBe(true);
    // The secret itself is nowhere in the row.
    const row = await getDb().serviceCredential.findUniqueOrThrow({ where: { id: created.id } });
    expect(JSON.stringify(row)).not.toContain(parsed!.secret);

    const [event] = (await events(null)).filter((e) => e.targetId === created.id);
    expect(event).toMatchObject({
      action: "credential.created",
      outcome: "SUCCESS",
      actorType: "VENDOR_ADMIN",
      actorLabel: "ops@vendor.example",
      targetType: "service_credential",
      tenantId: null,
      requestId: "req-credentials-1",
      details: { name: "billing-app", scopes: "wrap unwrap", tenant: null },
    });

    const [listed] = (await listServiceCredentials(vendor)).filter((c) => c.id === created.id);
    expect(listed).toMatchObject({ name: "billing-app", status: "active", createdBy: "ops@vendor.example", lastUsedAt: null, rotatedFrom: null });
    expect(listed).not.toHaveProperty("secretHash");
  });

  it("records a tenant-restricted credential in the vendor's chain and the tenant's", async () => {
    const created = await create({ name: "acme-worker", scopes: ["unwrap"], tenantId: acme.tenantId });
    expect((await loadCredentialForAuth(created.id))?.tenantId).toBe(acme.tenantId);
    for (const chain of [null, acme.tenantId]) {
      const trail = await events(chain);
      expect(trail.filter((e) => e.targetId === created.id).map((e) => [e.action, e.outcome, e.tenantId])).toEqual([
        ["credential.created", "SUCCESS", chain],
      ]);
    }
    expect((await events(acme.tenantId)).at(-1)?.details).toEqual({ name: "acme-worker", scopes: "unwrap", tenant: "acme" });
    expect(await verifyStoredChain(acme.tenantId)).toMatchObject({ intact: true });
    expect(await verifyStoredChain(null)).toMatchObject({ intact: true });
    const [listed] = (await listServiceCredentials(vendor)).filter((c) => c.id === created.id);
    expect(listed?.tenant).toEqual({ id: acme.tenantId, name: "Acme", slug: "acme" });
  });

  it.each([
    ["an empty name", { name: "  ", scopes: ["wrap"] }, "name"],
    ["a name over 100 characters", { name: "x".repeat(101), scopes: ["wrap"] }, "name"],
    ["a name with a direction override", { name: "evil\u202Egnp.exe", scopes: ["wrap"] }, "name"],
    ["no scopes", { name: "no-scopes", scopes: [] }, "scopes"],
    ["an unknown scope", { name: "admin-scope", scopes: ["admin"] }, "scopes.0"],
    ["a tenant id that is no UUID", { name: "bad-tenant", scopes: ["wrap"], tenantId: "acme" }, "tenantId"],
    ["a tenant that does not exist", { name: "ghost-tenant", scopes: ["wrap"], tenantId: "00000000-0000-4000-8000-000000000000" }, "tenantId"],
  ])("refuses %s with a field error and changes nothing", async (_what, input, field) => {
    const before = await snapshot();
    const error = await refusal(createServiceCredential(vendor, input as never));
    expect(error.code).toBe("bad_request");
    expect(Object.keys(error.fieldErrors ?? {})).toContain(field);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a second active credential of the same name (any case), audited, and points to rotation", async () => {
    await create({ name: "Reports", scopes: ["wrap"] });
    const before = (await getDb().serviceCredential.count());
    const error = await refusal(createServiceCredential(vendor, { name: "reports", scopes: ["unwrap"] }));
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("Rotate it");
    expect(error.fieldErrors?.name).toBeDefined();
    expect(await getDb().serviceCredential.count()).toBe(before);
    expect((await events(null)).at(-1)).toMatchObject({ action: "credential.created", outcome: "DENIED", details: expect.objectContaining({ name: "reports" }) });
  });
});

describe("who may manage credentials", () => {
  it("refuses a tenant admin everything, audits each attempt, and changes nothing", async () => {
    const target = await create({ name: "guarded", scopes: ["wrap"], tenantId: acme.tenantId });
    const before = await snapshot();
    const vendorTrail = (await events(null)).length;
    const tenantTrail = (await events(acme.tenantId)).length;

    const attempts = [
      () => createServiceCredential(acme.admin, { name: "mine", scopes: ["unwrap"], tenantId: acme.tenantId }),
      () => rotateServiceCredential(acme.admin, { credentialId: target.id }),
      () => revokeServiceCredential(acme.admin, { credentialId: target.id }),
    ];
    for (const attempt of attempts) expect((await refusal(attempt())).code).toBe("forbidden");
    expect((await refusal(listServiceCredentials(acme.admin))).code).toBe("forbidden");

    expect((await snapshot()).credentials).toEqual(before.credentials);
    const expected = [
      ["credential.created", "DENIED", "ada@acme.example"],
      ["credential.rotated", "DENIED", "ada@acme.example"],
      ["credential.revoked", "DENIED", "ada@acme.example"],
    ];
    // The vendor sees the attempts; so does the tenant they concern.
    expect((await events(null)).slice(vendorTrail).map((e) => [e.action, e.outcome, e.actorLabel])).toEqual(expected);
    expect((await events(acme.tenantId)).slice(tenantTrail).map((e) => [e.action, e.outcome, e.actorLabel])).toEqual(expected);
    expect((await events(null)).at(-1)?.details).toMatchObject({ reason: "not a vendor admin" });
  });

  it("records another tenant's member's attempts on the vendor chain only, without the name they typed", async () => {
    const { tenantId: betaId } = await createTenant(vendor, { name: "Beta", slug: "beta-creds", adminEmail: "bob@beta.example" });
    const bob = await callerFor("bob@beta.example");
    const target = await create({ name: "acme-billing", scopes: ["wrap"], tenantId: acme.tenantId });
    const acmeTrail = (await events(acme.tenantId)).length;
    const vendorTrail = (await events(null)).length;

    const attempts = [
      () => createServiceCredential(bob, { name: "Acme is leaking data, call 555-0100", scopes: ["unwrap"], tenantId: acme.tenantId }),
      () => createServiceCredential(bob, { name: "unrestricted words", scopes: ["unwrap"] }),
      () => rotateServiceCredential(bob, { credentialId: target.id }),
      () => revokeServiceCredential(bob, { credentialId: target.id }),
    ];
    for (const attempt of attempts) expect((await refusal(attempt())).code).toBe("forbidden");

    // Acme's trail (and so its SIEM) does not move; Beta's neither.
    expect(await events(acme.tenantId)).toHaveLength(acmeTrail);
    expect((await events(betaId)).filter((e) => e.outcome === "DENIED")).toEqual([]);
    const recorded = (await events(null)).slice(vendorTrail);
    expect(recorded.map((e) => [e.action, e.outcome, e.actorLabel, e.tenantId, e.targetId])).toEqual([
      ["credential.created", "DENIED", "bob@beta.example", null, null],
      ["credential.created", "DENIED", "bob@beta.example", null, null],
      ["credential.rotated", "DENIED", "bob@beta.example", null, target.id],
      ["credential.revoked", "DENIED", "bob@beta.example", null, target.id],
    ]);
    expect(recorded.map((e) => e.details)).toEqual([
      { reason: "not a vendor admin", targetTenantId: acme.tenantId },
      { reason: "not a vendor admin" },
      { reason: "not a vendor admin", targetTenantId: acme.tenantId },
      { reason: "not a vendor admin", targetTenantId: acme.tenantId },
    ]);
    expect(JSON.stringify(recorded, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/leaking|unrestricted words|acme-billing/);
    expect(await verifyStoredChain(null)).toMatchObject({ intact: true });
  });

  it("says not found for an unknown credential id and a bad one", async () => {
    expect((await refusal(revokeServiceCredential(vendor, { credentialId: "00000000-0000-4000-8000-000000000001" }))).code).toBe("not_found");
    expect((await refusal(rotateServiceCredential(vendor, { credentialId: "00000000-0000-4000-8000-000000000001" }))).code).toBe("not_found");
    expect((await refusal(revokeServiceCredential(vendor, { credentialId: "not-a-uuid" }))).code).toBe("bad_request");
  });
});

describe("rotating", () => {
  it("creates a successor with the same name, scopes and tenant, keeps both active, and refuses a third", async () => {
    const first = await create({ name: "ledger", scopes: ["wrap", "rekey"], tenantId: acme.tenantId });
    const second = await rotate(first.id);
    expect(second.id).not.toBe(first.id);
    expect(second.token).not.toBe(first.token);
    expect(parseServiceToken(second.token)?.id).toBe(second.id);

    const [a, b] = await Promise.all([loadCredentialForAuth(first.id), loadCredentialForAuth(second.id)]);
    expect(a?.revokedAt).toBeNull();
    expect(b).toMatchObject({ name: "ledger", scopes: ["wrap", "rekey"], tenantId: acme.tenantId, revokedAt: null });
    expect(timingSafeEqual(hashServiceSecret(parseServiceToken(second.token)!.secret), b!.secretHash)).toBe(true);
    expect(b!.secretHash.equals(a!.secretHash)).toBe(false);

    const listed = await listServiceCredentials(vendor);
    expect(listed.find((c) => c.id === second.id)?.rotatedFrom?.id).toBe(first.id);
    expect(listed.find((c) => c.id === first.id)?.rotatedTo.map((s) => s.id)).toEqual([second.id]);

    const count = await getDb().serviceCredential.count();
    for (const id of [first.id, second.id]) {
      const error = await refusal(rotateServiceCredential(vendor, { credentialId: id }));
      expect(error.code).toBe("conflict");
      expect(error.message).toBe(
        'Two credentials named "ledger" are already active. Revoke the one your application no longer uses, then rotate again.',
      );
    }
    expect(await getDb().serviceCredential.count()).toBe(count);

    for (const chain of [null, acme.tenantId]) {
      const rotated = (await events(chain)).filter((e) => e.action === "credential.rotated" && e.details && (e.details as { name?: string }).name === "ledger");
      expect(rotated.map((e) => [e.outcome, e.targetId])).toEqual([
        ["SUCCESS", second.id],
        ["DENIED", first.id],
        ["DENIED", second.id],
      ]);
      expect(rotated[0]?.details).toMatchObject({ rotatedFromId: first.id });
    }

    // Once the old one is revoked there is room again; a revoked one cannot be rotated.
    await revokeServiceCredential(vendor, { credentialId: first.id });
    expect((await refusal(rotateServiceCredential(vendor, { credentialId: first.id }))).message).toContain("is revoked and cannot be rotated");
    const third = await rotate(second.id);
    expect((await loadCredentialForAuth(third.id))?.revokedAt).toBeNull();
  });

  it("announces the rotated credential on the credentials channel", async () => {
    const first = await create({ name: "announce-rotation", scopes: ["unwrap"] });
    await listening(async () => {
      await rotate(first.id);
    }, [first.id]);
  });

  it("lets only one of two concurrent rotations through", async () => {
    const first = await create({ name: "racing", scopes: ["unwrap"] });
    const results = await Promise.allSettled([rotate(first.id), rotate(first.id), rotate(first.id)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(((r as PromiseRejectedResult).reason as AppError).code).toBe("conflict");
    }
    const active = await getDb().serviceCredential.count({ where: { name: "racing", revokedAt: null } });
    expect(active).toBe(2);
  });

  it("lets only one of two concurrent creates of a name through", async () => {
    const results = await Promise.allSettled([0, 1, 2].map(() => create({ name: "twins", scopes: ["wrap"] })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await getDb().serviceCredential.count({ where: { name: "twins" } })).toBe(1);
  });
});

describe("revoking", () => {
  it("sets revoked_at at once, announces it to listeners, and refuses a second revocation", async () => {
    const created = await create({ name: "to-revoke", scopes: ["wrap", "unwrap"], tenantId: acme.tenantId });
    let revokedAt: Date | undefined;
    await listening(async () => {
      ({ revokedAt } = await revokeServiceCredential(vendor, { credentialId: created.id }));
    }, [created.id]);

    const stored = await loadCredentialForAuth(created.id);
    expect(stored?.revokedAt).toEqual(revokedAt);
    const row = await getDb().serviceCredential.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.revokedById).toBe(vendor.userId);
    const [listed] = (await listServiceCredentials(vendor)).filter((c) => c.id === created.id);
    expect(listed).toMatchObject({ status: "revoked", revokedBy: "ops@vendor.example" });

    const again = await refusal(revokeServiceCredential(vendor, { credentialId: created.id }));
    expect(again.code).toBe("conflict");
    expect(again.message).toContain("already revoked");
    expect((await loadCredentialForAuth(created.id))?.revokedAt).toEqual(revokedAt);

    for (const chain of [null, acme.tenantId]) {
      const trail = (await events(chain)).filter((e) => e.action === "credential.revoked" && e.targetId === created.id);
      expect(trail.map((e) => e.outcome)).toEqual(["SUCCESS", "DENIED"]);
    }
  });

  it("sends no notification when the revocation is refused", async () => {
    const created = await create({ name: "not-yours", scopes: ["wrap"] });
    await listening(async () => {
      await refusal(revokeServiceCredential(acme.admin, { credentialId: created.id }));
    }, []);
    expect((await loadCredentialForAuth(created.id))?.revokedAt).toBeNull();
  });
});

describe("what the key service uses", () => {
  it("loads nothing for an unknown or malformed id", async () => {
    expect(await loadCredentialForAuth("00000000-0000-4000-8000-0000000000ff")).toBeNull();
    expect(await loadCredentialForAuth("csk_nonsense")).toBeNull();
  });

  it("moves last_used_at forward only, for many credentials in one call", async () => {
    const a = await create({ name: "used-a", scopes: ["wrap"] });
    const b = await create({ name: "used-b", scopes: ["wrap"] });
    const t1 = new Date("2026-11-30T10:00:00.000Z");
    const t2 = new Date("2026-11-30T11:00:00.000Z");
    await touchCredentialsLastUsed(new Map([[a.id, t2], [b.id, t1]]));
    await touchCredentialsLastUsed(new Map([[a.id, t1], [b.id, t2]]));
    await touchCredentialsLastUsed(new Map());
    const rows = await getDb().serviceCredential.findMany({ where: { id: { in: [a.id, b.id] } }, select: { id: true, lastUsedAt: true } });
    expect(Object.fromEntries(rows.map((r) => [r.id, r.lastUsedAt?.toISOString()]))).toEqual({
      [a.id]: t2.toISOString(),
      [b.id]: t2.toISOString(),
    });
    expect((await listServiceCredentials(vendor)).find((c) => c.id === a.id)?.lastUsedAt).toEqual(t2);
  });
});

describe("the audit trail", () => {
  it("never holds a secret or its hash", async () => {
    expect(issued.length).toBeGreaterThan(5);
    const trail = JSON.stringify(
      await getDb().auditEvent.findMany({ select: { details: true, targetId: true, actorLabel: true, action: true } }),
    );
    for (const token of issued) {
      const { secret } = parseServiceToken(token)!;
      const hash = hashServiceSecret(secret);
      for (const form of [token, secret, hash.toString("hex"), hash.toString("base64"), hash.toString("base64url")]) {
        expect(trail).not.toContain(form);
      }
    }
    // And every chain the credentials touched is intact.
    expect(await verifyStoredChain(null)).toMatchObject({ intact: true });
    expect(await verifyStoredChain(acme.tenantId)).toMatchObject({ intact: true });
  });
});
