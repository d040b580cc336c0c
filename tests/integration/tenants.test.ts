import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTenantEvents, verifyStoredChain } from "@/lib/audit";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { recordSignIn } from "@/lib/auth/sign-in-events";
import { disconnectDb, getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";
import type { Caller } from "@/lib/authz";
import { addMember, changeMemberRole, createTenant, listMembers, listTenants, removeMember } from "@/lib/tenants";
import { createTestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";

// The tenant and member rules as the data layer enforces them, against real PostgreSQL,
// with attempts to break tenant isolation and the last-admin rule.

const request: RequestMeta = { sourceIp: "203.0.113.7", userAgent: "vitest", requestId: "req-integration-1" };
let database: { url: string; drop: () => Promise<void> };
let vendor: Caller;

async function userId(email: string): Promise<string> {
  return (await getDb().user.findUniqueOrThrow({ where: { email } })).id;
}

async function callerFor(email: string): Promise<Caller> {
  return { userId: await userId(email), request };
}

async function events(tenantId: string | null) {
  return getDb().auditEvent.findMany({ where: { chain: tenantId ?? "vendor" }, orderBy: { seq: "asc" } });
}

async function newTenant(slug: string, adminEmail: string) {
  const { tenantId } = await createTenant(vendor, { name: `Tenant ${slug}`, slug, adminEmail });
  return { tenantId, admin: await callerFor(adminEmail) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  await grantVendorAdmins(["ops@vendor.example"]);
  vendor = await callerFor("ops@vendor.example");
});

afterAll(async () => {
  await disconnectDb();
  await database.drop();
});

describe("creating tenants", () => {
  it("creates the tenant, its first admin and both audit events in the tenant's chain", async () => {
    const { tenantId } = await createTenant(vendor, { name: "Acme", slug: "acme", adminEmail: "ada@acme.example" });
    const members = await listMembers(await callerFor("ada@acme.example"), tenantId);
    expect(members.map((m) => [m.email, m.role])).toEqual([["ada@acme.example", "admin"]]);

    const trail = await events(tenantId);
    expect(trail.map((e) => [e.action, e.outcome, e.actorType])).toEqual([
      ["tenant.created", "SUCCESS", "VENDOR_ADMIN"],
      ["member.invited", "SUCCESS", "VENDOR_ADMIN"],
    ]);
    expect(trail[0]).toMatchObject({ sourceIp: "203.0.113.7", userAgent: "vitest", requestId: "req-integration-1" });
    expect(await verifyStoredChain(tenantId)).toEqual({ events: 2, intact: true });
  });

  it("refuses a duplicate URL name and changes nothing", async () => {
    const before = await getDb().auditEvent.count();
    const error = await refusal(createTenant(vendor, { name: "Acme 2", slug: "acme", adminEmail: "x@acme.example" }));
    expect(error.code).toBe("conflict");
    expect(await getDb().tenant.count({ where: { slug: "acme" } })).toBe(1);
    expect(await getDb().user.count({ where: { email: "x@acme.example" } })).toBe(0);
    expect(await getDb().auditEvent.count()).toBe(before);
  });

  it("refuses a tenant admin and audits the attempt on the vendor chain", async () => {
    const { admin } = await newTenant("initech", "bill@initech.example");
    const error = await refusal(createTenant(admin, { name: "Evil", slug: "evil", adminEmail: "bill@initech.example" }));
    expect(error.code).toBe("forbidden");
    expect(await getDb().tenant.count({ where: { slug: "evil" } })).toBe(0);
    const last = (await events(null)).at(-1)!;
    expect(last).toMatchObject({ action: "tenant.created", outcome: "DENIED", actorLabel: "bill@initech.example" });
  });

  it("shows the tenant list to vendor admins only", async () => {
    const list = await listTenants(vendor);
    expect(list.map((t) => t.slug)).toEqual(expect.arrayContaining(["acme", "initech"]));
    expect(list.find((t) => t.slug === "acme")).toEqual({ id: expect.any(String), slug: "acme", name: "Acme" });
    const admin = await callerFor("ada@acme.example");
    expect((await refusal(listTenants(admin))).code).toBe("forbidden");
  });
});

describe("members", () => {
  it("lets an admin add, re-role and remove members, each audited", async () => {
    const { tenantId, admin } = await newTenant("globex", "hank@globex.example");
    await addMember(admin, { tenantId, email: "mo@globex.example", role: "auditor" });
    await recordSignIn((await callerFor("mo@globex.example")).userId, request);
    const mo = (await listMembers(admin, tenantId)).find((m) => m.email === "mo@globex.example")!;
    await changeMemberRole(admin, { tenantId, membershipId: mo.id, role: "admin" });
    await removeMember(admin, { tenantId, membershipId: mo.id });
    expect((await listMembers(admin, tenantId)).map((m) => m.email)).toEqual(["hank@globex.example"]);
    const trail = await events(tenantId);
    const changes = trail.filter((e) => e.action.startsWith("member."));
    expect(changes.slice(-3).map((e) => [e.action, e.details])).toEqual([
      ["member.invited", { email: "mo@globex.example", role: "auditor", expiresAt: expect.any(String) }],
      ["member.role_changed", { email: "mo@globex.example", from: "auditor", to: "admin" }],
      ["member.removed", { email: "mo@globex.example", role: "admin" }],
    ]);
  });

  it("refuses a duplicate invite and changes nothing", async () => {
    const { tenantId, admin } = await newTenant("hooli", "gavin@hooli.example");
    await addMember(admin, { tenantId, email: "dup@hooli.example", role: "auditor" });
    const before = (await events(tenantId)).length;
    const error = await refusal(addMember(admin, { tenantId, email: "dup@hooli.example", role: "admin" }));
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("dup@hooli.example has already been invited");
    const dup = (await listMembers(admin, tenantId)).find((m) => m.email === "dup@hooli.example");
    expect(dup?.role).toBe("auditor");
    expect((await events(tenantId)).length).toBe(before);
  });

  it("never lets the last admin be demoted or removed", async () => {
    const { tenantId, admin } = await newTenant("umbrella", "alice@umbrella.example");
    const [self] = await listMembers(admin, tenantId);
    expect((await refusal(changeMemberRole(admin, { tenantId, membershipId: self!.id, role: "auditor" }))).code).toBe("conflict");
    expect((await refusal(removeMember(admin, { tenantId, membershipId: self!.id }))).message).toContain("last admin");
    expect((await listMembers(admin, tenantId))[0]?.role).toBe("admin");

    await addMember(admin, { tenantId, email: "bob@umbrella.example", role: "admin" });
    await changeMemberRole(admin, { tenantId, membershipId: self!.id, role: "auditor" });
    const roles = Object.fromEntries((await listMembers(admin, tenantId)).map((m) => [m.email, m.role]));
    expect(roles).toEqual({ "alice@umbrella.example": "auditor", "bob@umbrella.example": "admin" });
  });

  it("lets only one of two admins demoting each other at once succeed", async () => {
    const { tenantId, admin: a } = await newTenant("cyberdyne", "miles@cyberdyne.example");
    await addMember(a, { tenantId, email: "sarah@cyberdyne.example", role: "admin" });
    const b = await callerFor("sarah@cyberdyne.example");
    const members = await listMembers(a, tenantId);
    const idOf = (email: string) => members.find((m) => m.email === email)!.id;
    const results = await Promise.allSettled([
      changeMemberRole(a, { tenantId, membershipId: idOf("sarah@cyberdyne.example"), role: "auditor" }),
      changeMemberRole(b, { tenantId, membershipId: idOf("miles@cyberdyne.example"), role: "auditor" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const admins = (await listMembers(a, tenantId)).filter((m) => m.role === "admin");
    expect(admins).toHaveLength(1);
  });

  it("keeps an auditor from changing anything, and audits each attempt as denied", async () => {
    const { tenantId, admin } = await newTenant("stark", "pepper@stark.example");
    await addMember(admin, { tenantId, email: "happy@stark.example", role: "auditor" });
    const auditor = await callerFor("happy@stark.example");
    const [pepper] = (await listMembers(auditor, tenantId)).filter((m) => m.role === "admin");

    for (const attempt of [
      () => addMember(auditor, { tenantId, email: "new@stark.example", role: "admin" }),
      () => changeMemberRole(auditor, { tenantId, membershipId: pepper!.id, role: "auditor" }),
      () => removeMember(auditor, { tenantId, membershipId: pepper!.id }),
    ]) {
      expect((await refusal(attempt())).code).toBe("forbidden");
    }
    const members = await listMembers(auditor, tenantId);
    expect(members.map((m) => [m.email, m.role]).sort()).toEqual([
      ["happy@stark.example", "auditor"],
      ["pepper@stark.example", "admin"],
    ]);
    const denied = (await events(tenantId)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => e.action)).toEqual(["member.invited", "member.role_changed", "member.removed"]);
    expect(denied.every((e) => e.actorLabel === "happy@stark.example")).toBe(true);
    expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: true });
  });
});

describe("tenant isolation", () => {
  it("refuses an admin acting on another tenant and records it on the vendor chain, not in the target's trail", async () => {
    const a = await newTenant("wayne", "bruce@wayne.example");
    const b = await newTenant("oscorp", "norman@oscorp.example");
    const [norman] = await listMembers(b.admin, b.tenantId);
    const targetTrail = (await events(b.tenantId)).length;
    const vendorTrail = (await events(null)).length;

    const error = await refusal(removeMember(a.admin, { tenantId: b.tenantId, membershipId: norman!.id }));
    expect(error.code).toBe("forbidden");
    await refusal(addMember(a.admin, { tenantId: b.tenantId, email: "spy-with-a-message@wayne.example", role: "admin" }));
    expect((await listMembers(b.admin, b.tenantId)).map((m) => m.email)).toEqual(["norman@oscorp.example"]);

    // An outsider cannot write into the targeted tenant's trail (nor, from there, its SIEM).
    expect(await events(b.tenantId)).toHaveLength(targetTrail);
    const recorded = (await events(null)).slice(vendorTrail);
    expect(recorded.map((e) => [e.action, e.outcome, e.actorLabel, e.tenantId])).toEqual([
      ["member.removed", "DENIED", "bruce@wayne.example", null],
      ["member.invited", "DENIED", "bruce@wayne.example", null],
    ]);
    expect(recorded.map((e) => e.details)).toEqual([
      { reason: "not a member of this tenant", targetTenantId: b.tenantId },
      { reason: "not a member of this tenant", targetTenantId: b.tenantId },
    ]);
    expect(JSON.stringify(recorded, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain("spy-with-a-message");
    expect(await verifyStoredChain(null)).toMatchObject({ intact: true });
    expect((await refusal(listMembers(a.admin, b.tenantId))).code).toBe("forbidden");
    expect((await refusal(listTenantEvents(a.admin, b.tenantId))).code).toBe("forbidden");
  });

  it("keeps a member's refusal, and a vendor admin's, in the tenant's own trail", async () => {
    const t = await newTenant("skynet", "miles@skynet.example");
    await addMember(t.admin, { tenantId: t.tenantId, email: "john@skynet.example", role: "auditor" });
    const auditor = await callerFor("john@skynet.example");
    const [miles] = await listMembers(t.admin, t.tenantId);
    await refusal(removeMember(auditor, { tenantId: t.tenantId, membershipId: miles!.id }));
    await refusal(removeMember(vendor, { tenantId: t.tenantId, membershipId: miles!.id }));
    const denied = (await events(t.tenantId)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => [e.action, e.actorLabel, e.details])).toEqual([
      ["member.removed", "john@skynet.example", { reason: "role auditor may not do this" }],
      ["member.removed", "ops@vendor.example", { reason: "not a member of this tenant" }],
    ]);
  });

  it("treats another tenant's membership id as not found in one's own tenant, and audits it", async () => {
    const a = await newTenant("tyrell", "eldon@tyrell.example");
    const b = await newTenant("weyland", "peter@weyland.example");
    await addMember(b.admin, { tenantId: b.tenantId, email: "david@weyland.example", role: "auditor" });
    const david = (await listMembers(b.admin, b.tenantId)).find((m) => m.email === "david@weyland.example")!;

    const error = await refusal(changeMemberRole(a.admin, { tenantId: a.tenantId, membershipId: david.id, role: "admin" }));
    expect(error.code).toBe("not_found");
    await refusal(removeMember(a.admin, { tenantId: a.tenantId, membershipId: david.id }));
    expect((await listMembers(b.admin, b.tenantId)).find((m) => m.id === david.id)?.role).toBe("auditor");

    const denied = (await events(a.tenantId)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => [e.action, e.targetId])).toEqual([
      ["member.role_changed", david.id],
      ["member.removed", david.id],
    ]);
  });

  it("lists only the tenant's own events", async () => {
    const a = await newTenant("soylent", "sol@soylent.example");
    const page = await listTenantEvents(a.admin, a.tenantId);
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((e) => e.tenantId === a.tenantId)).toBe(true);
    const ids = page.events.map((e) => e.id);
    expect([...ids].sort((x, y) => (x < y ? 1 : -1))).toEqual(ids);
  });
});

describe("the audit chain", () => {
  it("stays contiguous and intact under concurrent appends to one tenant", async () => {
    const { tenantId, admin } = await newTenant("massive", "ceo@massive.example");
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => addMember(admin, { tenantId, email: `p${i}@massive.example`, role: "auditor" })),
    );
    const trail = await events(tenantId);
    expect(trail.map((e) => Number(e.seq))).toEqual(Array.from({ length: trail.length }, (_, i) => i + 1));
    expect(await verifyStoredChain(tenantId)).toEqual({ events: 22, intact: true });
  });

  it("detects and locates an edited, and a deleted, event", async () => {
    const { tenantId, admin } = await newTenant("tamper", "t@tamper.example");
    for (const i of [1, 2, 3]) await addMember(admin, { tenantId, email: `m${i}@tamper.example`, role: "auditor" });
    const trail = await events(tenantId);
    expect(trail).toHaveLength(5);

    // What an attacker with database access would do: bypass the append-only trigger.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
      await client.query("UPDATE audit_events SET actor_label = 'someone@else.example' WHERE id = $1", [trail[2]!.id]);
      expect(await verifyStoredChain(tenantId)).toEqual({ events: 2, intact: false, break: { seq: 3n, reason: "hash_mismatch" } });

      await client.query("UPDATE audit_events SET actor_label = $2 WHERE id = $1", [trail[2]!.id, trail[2]!.actorLabel]);
      expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: true });

      await client.query("DELETE FROM audit_events WHERE id = $1", [trail[3]!.id]);
      expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: false, break: { seq: 5n, reason: "sequence_gap" } });

      await client.query("DELETE FROM audit_events WHERE id = $1", [trail[4]!.id]);
      expect(await verifyStoredChain(tenantId)).toMatchObject({ intact: false, break: { seq: 4n, reason: "sequence_gap" } });
    } finally {
      await client.query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete");
      await client.end();
    }
  });
});
