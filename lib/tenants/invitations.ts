import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";

// An invitation is a membership its person has not used yet (lib/authz/membership.ts). It
// expires INVITATION_DAYS after it was made or last re-sent; an admin can re-send it (a new
// period from now) or revoke it. Custody sends no email: the members page tells the admin what
// to send the invitee, and the no-access page tells an invitee whose invitation expired whom to ask.

const DAY_MS = 24 * 60 * 60 * 1000;

/** When an invitation made (or re-sent) at `now` stops being usable. */
export function invitationExpiry(now: Date = new Date()): Date {
  return new Date(now.getTime() + getConfig().INVITATION_DAYS * DAY_MS);
}

export type InvitationState = { expiresAt: Date | null; expired: boolean };

/** A membership's invitation, while its person has not used it (null once accepted). */
export function invitationState(
  membership: { acceptedAt: Date | null; inviteExpiresAt: Date | null },
  now: Date = new Date(),
): InvitationState | null {
  if (membership.acceptedAt) return null;
  const expiresAt = membership.inviteExpiresAt;
  return { expiresAt, expired: expiresAt !== null && expiresAt.getTime() <= now.getTime() };
}

/**
 * A tenant admin (or a vendor admin, for a tenant whose admin never arrived) re-sends an unused
 * invitation: it is usable for a new period from now. An accepted membership has nothing to re-send.
 */
export async function resendInvitation(caller: Caller, input: { tenantId: string; membershipId: string }): Promise<{ expiresAt: Date }> {
  const attempt = {
    tenantId: input.tenantId,
    action: AUDIT_ACTIONS.memberInvitationResent,
    target: { type: "membership", id: input.membershipId },
    roles: ["admin" as const, "vendor" as const],
  };
  return tenantChange(caller, attempt, async ({ tx, record, deny }) => {
    const membership = await tx.membership.findFirst({
      where: { id: input.membershipId, tenantId: input.tenantId },
      select: { id: true, role: true, acceptedAt: true, user: { select: { email: true } } },
    });
    if (!membership) {
      const notFound = new AppError("not_found", "That invitation does not exist in this tenant (it may have been revoked).");
      if ((await tx.membership.count({ where: { id: input.membershipId } })) > 0) throw deny("membership belongs to another tenant", notFound);
      throw notFound;
    }
    if (membership.acceptedAt) {
      throw new AppError("conflict", `${membership.user.email} has already signed in: there is no invitation to re-send.`);
    }
    const expiresAt = invitationExpiry();
    await tx.membership.update({ where: { id: membership.id }, data: { inviteExpiresAt: expiresAt } });
    await record({ details: { email: membership.user.email, role: membership.role === "ADMIN" ? "admin" : "auditor", expiresAt: expiresAt.toISOString() } });
    return { expiresAt };
  });
}
