"use server";

import { revalidatePath } from "next/cache";
import { authedAction } from "@/lib/http/authed-action";
import { createTenant } from "@/lib/tenants";
import { createTenantSchema } from "@/lib/validation/tenants";

export const createTenantAction = authedAction(createTenantSchema, async (input, { caller }) => {
  await createTenant(caller, input);
  revalidatePath("/vendor");
  return { ok: true, message: `${input.name} was created. ${input.adminEmail} is its admin and can sign in with SSO now.` };
});
