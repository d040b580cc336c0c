"use server";

import { revalidatePath } from "next/cache";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { addMember, changeMemberRole, removeMember } from "@/lib/tenants";
import { addMemberSchema, changeMemberRoleSchema, removeMemberSchema } from "@/lib/validation/tenants";

// Each action re-checks everything on the server: the forms only hide what a role cannot do;
// the data layer (lib/tenants) decides, and audits refusals.

async function signedInCaller() {
  const principal = await getPrincipal();
  return principal ? callerFor(principal) : null;
}

const SIGNED_OUT: ActionResult = { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." };

export async function addMemberAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(addMemberSchema, formData);
    if (!input.ok) return input.result;
    await addMember(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    return { ok: true, message: `${input.data.email} was added as ${input.data.role}. They can now sign in with SSO.` };
  });
}

export async function changeMemberRoleAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(changeMemberRoleSchema, formData);
    if (!input.ok) return input.result;
    await changeMemberRole(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    return { ok: true, message: "Role updated." };
  });
}

export async function removeMemberAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(removeMemberSchema, formData);
    if (!input.ok) return input.result;
    await removeMember(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    return { ok: true, message: "Member removed." };
  });
}
