import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { expiredInvitations, hasAnyAccess, recordSignIn } from "@/lib/auth/sign-in-events";
import { type Caller, standingOf } from "@/lib/authz";
import { disconnectDb, getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";
import { addMember, createTenant, findTenantForMember, listMembers, removeMember, resendInvitation } from "@/lib/tenants";
import { createTestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";

// Invitations expire (INVITATION_DAYS, 7 by default) unless their person has signed in; an
// admin can re-send or revoke one. Time passes here by moving a stored expiry into the past,
// which is what the clock would do.

const request: RequestMeta = { sourceIp: "203.0.113.9", userAgent: "vitest", requestId: "req-invitations" };
const DAY_MS = 24 * 60 * 60 * 1000;
let database: { url: string; drop: () => Promise<void> };
let vendor: Caller;

async function callerFor(email: string): Promise<Caller> {
  return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
}

async function membershipOf(email: string, tenantId: string) {
  return getDb().membership.findFirstOrThrow({ where: { tenantId, user: { email } } });
}

/** The invitation's expiry, moved into the past: what a week without signing in does. */
async function expire(email: string, tenantId: string): Promise<void> {
  const membership = await membershipOf(email, tenantId);
  await getDb().membership.update({ where: { id: membership.id }, data: { inviteExpiresAt: new Date(Date.now() - 60_000) } });
}

async function lastEvent(tenantId: string) {
  return getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId }, orderBy: { seq: "desc" } });
}

async function tenantWithInvitee(slug: string) {
  const { tenantId } = await createTenant(vendor, { name: `Tenant ${slug}`, slug, adminEmail: `admin@${slug}.example` });
  const admin = await callerFor(`admin@${slug}.example`);
  await recordSignIn(admin.userId, request);
  const invitee = `new@${slug}.example`;
  await addMember(admin, { tenantId, email: invitee, role: "auditor" });
  return { tenantId, admin, invitee };
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

describe("an invitation", () => {
  it("is usable for seven days, and the members list says what the invitee must do by when", async () => {
    const before = Date.now();
    const { tenantId, admin, invitee } = await tenantWithInvitee("week");
    const { inviteExpiresAt } = await membershipOf(invitee, tenantId);
    expect(inviteExpiresAt!.getTime()).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(inviteExpiresAt!.getTime()).toBeLessThan(before + 8 * DAY_MS);
    expect(await hasAnyAccess(invitee)).toBe(true);
    expect((await standingOf(getDb(), (await callerFor(invitee)).userId, tenantId)).role).toBe("auditor");

    const row = (await listMembers(admin, tenantId)).find((m) => m.email === invitee)!;
    expect(row.invitation).toEqual({ expiresAt: inviteExpiresAt, expired: false });
    expect((await lastEvent(tenantId)).details).toMatchObject({ email: invitee, expiresAt: inviteExpiresAt!.toISOString() });
  });

  it("opens nothing once it has expired unused: no sign-in, no console, no standing; the invitee is told why", async () => {
    const { tenantId, admin, invitee } = await tenantWithInvitee("lapsed");
    await expire(invitee, tenantId);
    const person = await callerFor(invitee);

    expect(await hasAnyAccess(invitee)).toBe(false);
    expect((await standingOf(getDb(), person.userId, tenantId)).role).toBeNull();
    expect(await findTenantForMember(person, "lapsed")).toBeNull();
    expect((await refusal(listMembers(person, tenantId))).code).toBe("forbidden");
    expect(await expiredInvitations(invitee)).toEqual([{ tenantName: "Tenant lapsed", expiredAt: expect.any(Date) }]);
    expect((await listMembers(admin, tenantId)).find((m) => m.email === invitee)!.invitation).toMatchObject({ expired: true });
  });

  it("no longer expires once its person has signed in", async () => {
    const { tenantId, invitee } = await tenantWithInvitee("arrived");
    const person = await callerFor(invitee);
    await recordSignIn(person.userId, request);
    expect((await membershipOf(invitee, tenantId)).acceptedAt).not.toBeNull();
    await expire(invitee, tenantId);
    expect(await hasAnyAccess(invitee)).toBe(true);
    expect((await standingOf(getDb(), person.userId, tenantId)).role).toBe("auditor");
    expect(await expiredInvitations(invitee)).toEqual([]);
  });

  it("is not accepted by a sign-in after it expired", async () => {
    const { tenantId, invitee } = await tenantWithInvitee("toolate");
    await expire(invitee, tenantId);
    await recordSignIn((await callerFor(invitee)).userId, request);
    expect((await membershipOf(invitee, tenantId)).acceptedAt).toBeNull();
    expect(await hasAnyAccess(invitee)).toBe(false);
  });

  it("can be re-sent by a tenant admin: usable for a new week, audited", async () => {
    const { tenantId, admin, invitee } = await tenantWithInvitee("resent");
    await expire(invitee, tenantId);
    const membership = await membershipOf(invitee, tenantId);
    const { expiresAt } = await resendInvitation(admin, { tenantId, membershipId: membership.id });
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 6 * DAY_MS);
    expect(await hasAnyAccess(invitee)).toBe(true);
    expect(await lastEvent(tenantId)).toMatchObject({ action: "member.invitation_resent", outcome: "SUCCESS", actorLabel: "admin@resent.example" });
  });

  it("can be re-sent by a vendor admin, for a tenant whose first admin never arrived", async () => {
    const { tenantId } = await createTenant(vendor, { name: "Tenant stalled", slug: "stalled", adminEmail: "admin@stalled.example" });
    await expire("admin@stalled.example", tenantId);
    expect(await hasAnyAccess("admin@stalled.example")).toBe(false);
    const membership = await membershipOf("admin@stalled.example", tenantId);
    await resendInvitation(vendor, { tenantId, membershipId: membership.id });
    expect(await hasAnyAccess("admin@stalled.example")).toBe(true);
    expect(await lastEvent(tenantId)).toMatchObject({ action: "member.invitation_resent", actorType: "VENDOR_ADMIN" });
  });

  it("cannot be re-sent once used, nor by another tenant's admin, nor by an auditor", async () => {
    const { tenantId, admin } = await tenantWithInvitee("guarded");
    const own = await membershipOf("admin@guarded.example", tenantId);
    expect((await refusal(resendInvitation(admin, { tenantId, membershipId: own.id }))).code).toBe("conflict");

    const other = await tenantWithInvitee("intruder");
    const pending = await membershipOf("new@guarded.example", tenantId);
    const before = pending.inviteExpiresAt;
    expect((await refusal(resendInvitation(other.admin, { tenantId, membershipId: pending.id }))).code).toBe("forbidden");
    expect((await refusal(resendInvitation(other.admin, { tenantId: other.tenantId, membershipId: pending.id }))).code).toBe("not_found");
    const auditor = await callerFor("new@guarded.example");
    expect((await refusal(resendInvitation(auditor, { tenantId, membershipId: pending.id }))).code).toBe("forbidden");
    expect((await membershipOf("new@guarded.example", tenantId)).inviteExpiresAt).toEqual(before);
  });

  it("can be revoked: the invitee gets nothing, and the trail says an invitation was revoked", async () => {
    const { tenantId, admin, invitee } = await tenantWithInvitee("revoked");
    const membership = await membershipOf(invitee, tenantId);
    await removeMember(admin, { tenantId, membershipId: membership.id });
    expect(await hasAnyAccess(invitee)).toBe(false);
    expect(await lastEvent(tenantId)).toMatchObject({ action: "member.invitation_revoked", outcome: "SUCCESS" });
  });

  it("of an admin that expired unused does not count as another admin", async () => {
    const { tenantId, admin } = await tenantWithInvitee("lastadmin");
    await addMember(admin, { tenantId, email: "second@lastadmin.example", role: "admin" });
    await expire("second@lastadmin.example", tenantId);
    const own = await membershipOf("admin@lastadmin.example", tenantId);
    expect((await refusal(removeMember(admin, { tenantId, membershipId: own.id }))).code).toBe("conflict");
  });

  it("cannot be made twice: adding an invited address again points to re-sending", async () => {
    const { tenantId, admin, invitee } = await tenantWithInvitee("twice");
    const error = await refusal(addMember(admin, { tenantId, email: invitee, role: "admin" }));
    expect(error).toMatchObject({ code: "conflict", message: expect.stringContaining("Re-send") });
  });
});
