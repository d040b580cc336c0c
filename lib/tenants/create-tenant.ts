import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import { isUniqueViolation } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type CreateTenantInput } from "@/lib/validation/tenants";
import { actorOf, type Caller, deny, runAudited, standingOf } from "@/lib/authz";
import { invitationExpiry } from "./invitations";

/** A vendor admin creates a tenant and invites its first tenant admin by email. */
export async function createTenant(caller: Caller, input: CreateTenantInput): Promise<{ tenantId: string; slug: string }> {
  try {
    return await runAudited(async (tx) => {
      const standing = await standingOf(tx, caller.userId, null);
      if (!standing.isVendorAdmin) {
        throw deny(caller, standing, null, AUDIT_ACTIONS.tenantCreated, { type: "tenant", id: input.slug }, "not a vendor admin");
      }
      const actor = actorOf(caller, standing);
      const tenant = await tx.tenant.create({ data: { name: input.name, slug: input.slug } });
      const admin = await tx.user.upsert({
        where: { email: input.adminEmail },
        create: { email: input.adminEmail },
        update: {},
      });
      const membership = await tx.membership.create({
        data: { tenantId: tenant.id, userId: admin.id, role: "ADMIN", invitedById: caller.userId, inviteExpiresAt: invitationExpiry() },
      });
      await appendAuditEvent(tx, {
        tenantId: tenant.id,
        actor,
        action: AUDIT_ACTIONS.tenantCreated,
        target: { type: "tenant", id: tenant.id },
        outcome: "success",
        request: caller.request,
        details: { name: tenant.name, slug: tenant.slug },
      });
      await appendAuditEvent(tx, {
        tenantId: tenant.id,
        actor,
        action: AUDIT_ACTIONS.memberInvited,
        target: { type: "membership", id: membership.id },
        outcome: "success",
        request: caller.request,
        details: { email: admin.email, role: "admin" },
      });
      return { tenantId: tenant.id, slug: tenant.slug };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", `A tenant with the URL name "${input.slug}" already exists. Choose another.`, {
        slug: ["This URL name is taken."],
      });
    }
    throw error;
  }
}
