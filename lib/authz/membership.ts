import "server-only";
import type { Prisma, Tx } from "@/lib/db";

// A membership starts as an invitation: it grants access only until its invitation expires,
// unless its person has used it by then (accepted). Every place that turns a membership into
// access asks through `grantsAccess`, so an expired invitation opens nothing anywhere: not the
// console, the trail's live view, an export, or a sign-in.

/** Memberships that grant access at `now`: accepted, or an invitation not yet expired (or one that never expires). */
export function grantsAccess(now: Date = new Date()): Prisma.MembershipWhereInput {
  return { OR: [{ acceptedAt: { not: null } }, { inviteExpiresAt: null }, { inviteExpiresAt: { gt: now } }] };
}

/** Marks the person's open invitations as used: from now on they no longer expire. */
export async function acceptInvitations(tx: Tx, userId: string, now: Date = new Date()): Promise<number> {
  const { count } = await tx.membership.updateMany({
    where: { userId, acceptedAt: null, OR: [{ inviteExpiresAt: null }, { inviteExpiresAt: { gt: now } }] },
    data: { acceptedAt: now },
  });
  return count;
}
