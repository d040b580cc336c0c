import "server-only";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import type { Caller } from "@/lib/authz";
import { type InvitationState, invitationState } from "@/lib/tenants";
import { TENANT_ID } from "./fleet-query";
import { type FleetRow, fleetTenantRow, requireFleetViewer } from "./list-fleet";

// One tenant as the vendor sees it: the fleet row's health, its admins and how far onboarding
// got. Nothing of the tenant's key material, key identifiers, data labels or trail contents.
// Every look is an event in the tenant's own trail, recorded before anything is shown: the
// tenant sees which of the vendor's staff looked, and when.

export type OnboardingStep = "invited" | "signed_in" | "key_registered" | "key_verified";

export type FleetTenantAdmin = {
  membershipId: string;
  email: string;
  invitedAt: Date;
  lastSignInAt: Date | null;
  /** While the admin has not signed in: their invitation (the vendor can re-send it). */
  invitation: InvitationState | null;
};

export type FleetTenantDetail = {
  row: FleetRow;
  admins: FleetTenantAdmin[];
  /** Each onboarding step and whether the tenant has reached it, in order. */
  onboarding: Array<{ step: OnboardingStep; done: boolean }>;
  /** KMS keys registered, and how many were ever verified. */
  keys: { registered: number; verified: number };
};

const NOT_FOUND = "There is no such tenant.";

/** The vendor's detail of one tenant, for vendor admins only; recorded in the tenant's trail. */
export async function getFleetTenant(caller: Caller, tenantId: string): Promise<FleetTenantDetail> {
  const standing = await requireFleetViewer(caller);
  if (!TENANT_ID.test(tenantId)) throw new AppError("not_found", NOT_FOUND);
  // The tenant's own row (its keys, sinks and usage by its id), not the fleet query narrowed to it.
  const row = await fleetTenantRow(tenantId.toLowerCase());
  if (!row) throw new AppError("not_found", NOT_FOUND);
  await recordAuditEvent({
    tenantId: row.id,
    actor: { type: "vendor_admin", id: caller.userId, label: standing.email },
    action: AUDIT_ACTIONS.tenantViewedByVendor,
    target: { type: "tenant", id: row.id },
    outcome: "success",
    request: caller.request,
    details: { view: "vendor tenant detail" },
  });

  const db = getDb();
  const [admins, registered, verified] = await Promise.all([
    db.membership.findMany({
      where: { tenantId: row.id, role: "ADMIN" },
      select: { id: true, createdAt: true, acceptedAt: true, inviteExpiresAt: true, user: { select: { email: true, lastSignInAt: true } } },
      orderBy: { createdAt: "asc" },
    }),
    db.kmsKey.count({ where: { tenantId: row.id } }),
    db.kmsKey.count({ where: { tenantId: row.id, lastVerifiedAt: { not: null } } }),
  ]);
  const signedIn = admins.some((admin) => admin.user.lastSignInAt !== null);
  return {
    row,
    admins: admins.map((admin) => ({
      membershipId: admin.id,
      email: admin.user.email,
      invitedAt: admin.createdAt,
      lastSignInAt: admin.user.lastSignInAt,
      invitation: invitationState(admin),
    })),
    onboarding: [
      { step: "invited", done: admins.length > 0 },
      { step: "signed_in", done: signedIn },
      { step: "key_registered", done: registered > 0 },
      { step: "key_verified", done: verified > 0 },
    ],
    keys: { registered, verified },
  };
}
