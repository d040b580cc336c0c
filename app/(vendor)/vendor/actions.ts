"use server";

import { revalidatePath } from "next/cache";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { createTenant } from "@/lib/tenants";
import { createTenantSchema } from "@/lib/validation/tenants";

export async function createTenantAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const principal = await getPrincipal();
    if (!principal) return { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." };
    const input = parseForm(createTenantSchema, formData);
    if (!input.ok) return input.result;
    await createTenant(await callerFor(principal), input.data);
    revalidatePath("/vendor");
    return {
      ok: true,
      message: `${input.data.name} was created. ${input.data.adminEmail} is its admin and can sign in with SSO now.`,
    };
  });
}
