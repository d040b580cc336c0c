import "server-only";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Caller } from "@/lib/authz";
import { fleetQuerySchema, TENANT_ID } from "./fleet-query";
import { type FleetRow, listFleet } from "./list-fleet";

// One tenant as the vendor sees it: the fleet row's health, its admins and how far onboarding
// got. Nothing of the tenant's key material, key identifiers, data labels or trail contents.

export type OnboardingStep = "invited" | "signed_in" | "key_registered" | "key_verified";

export type FleetTenantAdmin = { email: string; invitedAt: Date; lastSignInAt: Date | null };

export type FleetTenantDetail = {
  row: FleetRow;
  admins: FleetTenantAdmin[];
  /** Each onboarding step and whether the tenant has reached it, in order. */
  onboarding: Array<{ step: OnboardingStep; done: boolean }>;
  /** KMS keys registered, and how many were ever verified. */
  keys: { registered: number; verified: number };
};

const NOT_FOUND = "There is no such tenant.";

/** The vendor's detail of one tenant (vendor admins only; listFleet checks). */
export async function getFleetTenant(caller: Caller, tenantId: string): Promise<FleetTenantDetail> {
  if (!TENANT_ID.test(tenantId)) throw new AppError("not_found", NOT_FOUND);
  const { rows } = await listFleet(caller, fleetQuerySchema.parse({ q: tenantId }));
  const row = rows.find((candidate) => candidate.id === tenantId);
  if (!row) throw new AppError("not_found", NOT_FOUND);

  const db = getDb();
  const [admins, registered, verified] = await Promise.all([
    db.membership.findMany({
      where: { tenantId, role: "ADMIN" },
      select: { createdAt: true, user: { select: { email: true, lastSignInAt: true } } },
      orderBy: { createdAt: "asc" },
    }),
    db.kmsKey.count({ where: { tenantId } }),
    db.kmsKey.count({ where: { tenantId, lastVerifiedAt: { not: null } } }),
  ]);
  const signedIn = admins.some((admin) => admin.user.lastSignInAt !== null);
  return {
    row,
    admins: admins.map((admin) => ({ email: admin.user.email, invitedAt: admin.createdAt, lastSignInAt: admin.user.lastSignInAt })),
    onboarding: [
      { step: "invited", done: admins.length > 0 },
      { step: "signed_in", done: signedIn },
      { step: "key_registered", done: registered > 0 },
      { step: "key_verified", done: verified > 0 },
    ],
    keys: { registered, verified },
  };
}
