import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import type { Actor } from "@/lib/audit";
import { acceptInvitations, grantsAccess } from "@/lib/authz";
import { getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";

export async function hasAnyAccess(email: string): Promise<boolean> {
  const user = await getDb().user.findUnique({
    where: { email },
    select: { vendorAdmin: { select: { userId: true } }, _count: { select: { memberships: { where: grantsAccess() } } } },
  });
  return user !== null && (user.vendorAdmin !== null || user._count.memberships > 0);
}

export type ExpiredInvitation = { tenantName: string; expiredAt: Date };

/** The person's invitations that expired unused: what the no-access page tells them to ask about. */
export async function expiredInvitations(email: string, now: Date = new Date()): Promise<ExpiredInvitation[]> {
  const rows = await getDb().membership.findMany({
    where: { user: { email }, acceptedAt: null, inviteExpiresAt: { lte: now } },
    select: { inviteExpiresAt: true, tenant: { select: { name: true } } },
    orderBy: { inviteExpiresAt: "desc" },
  });
  return rows.map((row) => ({ tenantName: row.tenant.name, expiredAt: row.inviteExpiresAt! }));
}

// A sign-in or sign-out is written to the trail of every tenant the person belongs to (each
// tenant sees its own people come and go) and, for vendor admins, to the vendor chain.
async function recordSession(userId: string, request: RequestMeta, action: typeof AUDIT_ACTIONS.signIn | typeof AUDIT_ACTIONS.signOut) {
  await getDb().$transaction(async (tx) => {
    const user = await tx.user.findUniqueOrThrow({
      where: { id: userId },
      select: { email: true, vendorAdmin: true, memberships: { where: grantsAccess(), select: { tenantId: true } } },
    });
    if (action === AUDIT_ACTIONS.signIn) {
      await tx.user.update({ where: { id: userId }, data: { lastSignInAt: new Date() } });
      await acceptInvitations(tx, userId);
    }
    const tenants: Array<string | null> = user.memberships.map((m) => m.tenantId);
    if (user.vendorAdmin || tenants.length === 0) tenants.push(null);
    for (const tenantId of tenants) {
      const actor: Actor = {
        type: tenantId === null && user.vendorAdmin ? "vendor_admin" : "user",
        id: userId,
        label: user.email,
      };
      await appendAuditEvent(tx, { tenantId, actor, action, target: { type: "user", id: userId }, outcome: "success", request });
    }
  });
}

export function recordSignIn(userId: string, request: RequestMeta): Promise<void> {
  return recordSession(userId, request, AUDIT_ACTIONS.signIn);
}

export function recordSignOut(userId: string, request: RequestMeta): Promise<void> {
  return recordSession(userId, request, AUDIT_ACTIONS.signOut);
}

/** A person the IdP vouched for but who has no access here: recorded on the vendor chain. */
export async function recordSignInRefused(email: string | null, request: RequestMeta, reason: string): Promise<void> {
  await getDb().$transaction((tx) =>
    appendAuditEvent(tx, {
      tenantId: null,
      actor: { type: "user", id: null, label: email ?? "(no email)" },
      action: AUDIT_ACTIONS.signIn,
      outcome: "denied",
      request,
      details: { reason },
    }),
  );
}
