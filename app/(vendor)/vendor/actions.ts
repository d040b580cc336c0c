"use server";

import { revalidatePath } from "next/cache";
import { getConfig } from "@/lib/config";
import { authedAction } from "@/lib/http/authed-action";
import { createTenant, resendInvitation } from "@/lib/tenants";
import { createTenantSchema, resendInvitationSchema } from "@/lib/validation/tenants";

export const createTenantAction = authedAction(createTenantSchema, async (input, { caller }) => {
  await createTenant(caller, input);
  revalidatePath("/vendor");
  // In the demo, the development IdP admits every invited address with the demo password.
  const how = getConfig().CUSTODY_DEMO ? " (in this demo, with the demo password `npm start` printed)" : "";
  const days = getConfig().INVITATION_DAYS;
  return {
    ok: true,
    message: `${input.name} was created. ${input.adminEmail} is its admin and can sign in with SSO within ${days} days${how}.`,
  };
});

/** A tenant whose first admin never arrived: the vendor re-sends the invitation (audited in the tenant's trail). */
export const resendInvitationAction = authedAction(resendInvitationSchema, async (input, { caller }) => {
  const { expiresAt } = await resendInvitation(caller, input);
  revalidatePath("/vendor/tenants/[tenantId]", "page");
  return { ok: true, message: `Invitation re-sent: usable until ${expiresAt.toISOString().slice(0, 10)}.` };
});
