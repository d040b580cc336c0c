"use server";

import { revalidatePath } from "next/cache";
import { getConfig } from "@/lib/config";
import { authedAction } from "@/lib/http/authed-action";
import { createTenant } from "@/lib/tenants";
import { createTenantSchema } from "@/lib/validation/tenants";

export const createTenantAction = authedAction(createTenantSchema, async (input, { caller }) => {
  await createTenant(caller, input);
  revalidatePath("/vendor");
  // In the demo, the development IdP admits every invited address with the demo password.
  const how = getConfig().CUSTODY_DEMO ? " (in this demo, with the demo password `npm start` printed)" : "";
  return { ok: true, message: `${input.name} was created. ${input.adminEmail} is its admin and can sign in with SSO now${how}.` };
});
