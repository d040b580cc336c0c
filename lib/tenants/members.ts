import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, grantsAccess, standingOf, type TenantChange, tenantChange } from "@/lib/authz";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { type InvitationState, invitationExpiry, invitationState } from "./invitations";

const ROLE = { admin: "ADMIN", auditor: "AUDITOR" } as const;
const roleName = (role: "ADMIN" | "AUDITOR"): TenantRoleName => (role === "ADMIN" ? "admin" : "auditor");

export type MemberView = {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  role: TenantRoleName;
  addedAt: Date;
  /** While its person has not signed in: the invitation, and whether it has expired. */
  invitation: InvitationState | null;
};

/** A tenant's members, for its admins and auditors. */
export async function listMembers(caller: Caller, tenantId: string): Promise<MemberView[]> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  const now = new Date();
  const members = await db.membership.findMany({
    where: { tenantId },
    // Not the person's last sign-in: that is activity anywhere in Custody, not this tenant's business.
    include: { user: { select: { email: true, name: true } } },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
  });
  return members.map((m) => ({
    id: m.id,
    userId: m.userId,
    email: m.user.email,
    name: m.user.name,
    role: roleName(m.role),
    addedAt: m.createdAt,
    invitation: invitationState(m, now),
  }));
}

/** A tenant admin invites someone by email; they get access by signing in with SSO before the invitation expires. */
export async function addMember(
  caller: Caller,
  input: { tenantId: string; email: string; role: TenantRoleName },
): Promise<{ membershipId: string }> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.memberInvited, target: { type: "email", id: input.email } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const user = await tx.user.upsert({ where: { email: input.email }, create: { email: input.email }, update: {} });
    const existing = await tx.membership.findUnique({
      where: { tenantId_userId: { tenantId: input.tenantId, userId: user.id } },
    });
    if (existing?.acceptedAt === null) {
      throw new AppError("conflict", `${input.email} has already been invited. Re-send the invitation from the list instead.`, {
        email: ["Already invited."],
      });
    }
    if (existing) {
      throw new AppError("conflict", `${input.email} is already a member of this tenant.`, {
        email: ["Already a member."],
      });
    }
    const expiresAt = invitationExpiry();
    const membership = await tx.membership.create({
      data: { tenantId: input.tenantId, userId: user.id, role: ROLE[input.role], invitedById: caller.userId, inviteExpiresAt: expiresAt },
    });
    await record({
      target: { type: "membership", id: membership.id },
      details: { email: user.email, role: input.role, expiresAt: expiresAt.toISOString() },
    });
    return { membershipId: membership.id };
  });
}

/** A tenant admin changes a member's role; the last admin cannot be demoted. */
export async function changeMemberRole(
  caller: Caller,
  input: { tenantId: string; membershipId: string; role: TenantRoleName },
): Promise<void> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.memberRoleChanged, target: { type: "membership", id: input.membershipId } };
  await tenantChange(caller, attempt, async (change) => {
    const { tx, record } = change;
    const membership = await lockedMembership(change, input.tenantId, input.membershipId);
    if (membership.role === ROLE[input.role]) return;
    if (membership.role === "ADMIN") await requireAnotherAdmin(tx, input.tenantId, membership);
    await tx.membership.update({ where: { id: membership.id }, data: { role: ROLE[input.role] } });
    await record({ details: { email: membership.user.email, from: roleName(membership.role), to: input.role } });
  });
}

/**
 * A tenant admin removes a member, or revokes an invitation not used yet; the last admin who
 * can sign in cannot be removed.
 */
export async function removeMember(caller: Caller, input: { tenantId: string; membershipId: string }): Promise<void> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.memberRemoved, target: { type: "membership", id: input.membershipId } };
  await tenantChange(caller, attempt, async (change) => {
    const { tx, record } = change;
    const membership = await lockedMembership(change, input.tenantId, input.membershipId);
    const invitation = membership.acceptedAt === null;
    if (membership.role === "ADMIN") await requireAnotherAdmin(tx, input.tenantId, membership);
    await tx.membership.delete({ where: { id: membership.id } });
    await record({
      action: invitation ? AUDIT_ACTIONS.memberInvitationRevoked : AUDIT_ACTIONS.memberRemoved,
      details: { email: membership.user.email, role: roleName(membership.role) },
    });
  });
}

/**
 * Finds the membership within the tenant and locks the tenant's row, so two admins demoting
 * each other at once cannot both pass the last-admin check. An id from another tenant is
 * answered as not found and audited as a denied cross-tenant attempt.
 */
async function lockedMembership({ tx, deny }: TenantChange, tenantId: string, membershipId: string) {
  await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`;
  const membership = await tx.membership.findFirst({
    where: { id: membershipId, tenantId },
    include: { user: { select: { email: true } } },
  });
  if (membership) return membership;
  const notFound = new AppError("not_found", "That member does not exist in this tenant (they may have been removed).");
  const elsewhere = (await tx.membership.count({ where: { id: membershipId } })) > 0;
  if (!elsewhere) throw notFound;
  throw deny("membership belongs to another tenant", notFound);
}

/** Another admin who can still sign in must remain; one whose invitation expired unused cannot, so does not count. */
async function requireAnotherAdmin(tx: Tx, tenantId: string, membership: { id: string; user: { email: string } }): Promise<void> {
  const others = await tx.membership.count({ where: { tenantId, role: "ADMIN", id: { not: membership.id }, ...grantsAccess() } });
  if (others === 0) {
    throw new AppError(
      "conflict",
      `${membership.user.email} is the last admin of this tenant. Make someone else an admin first.`,
    );
  }
}
