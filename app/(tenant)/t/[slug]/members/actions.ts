"use server";

import { revalidatePath } from "next/cache";
import { authedAction } from "@/lib/http/authed-action";
import { addMember, changeMemberRole, removeMember } from "@/lib/tenants";
import { addMemberSchema, changeMemberRoleSchema, removeMemberSchema } from "@/lib/validation/tenants";

// Each action re-checks everything on the server: the forms only hide what a role cannot do;
// the data layer (lib/tenants) decides, and audits refusals.

function refresh() {
  revalidatePath("/t/[slug]", "layout");
}

export const addMemberAction = authedAction(addMemberSchema, async (input, { caller }) => {
  await addMember(caller, input);
  refresh();
  return { ok: true, message: `${input.email} was added as ${input.role}. They can now sign in with SSO.` };
});

export const changeMemberRoleAction = authedAction(changeMemberRoleSchema, async (input, { caller }) => {
  await changeMemberRole(caller, input);
  refresh();
  return { ok: true, message: "Role updated." };
});

export const removeMemberAction = authedAction(removeMemberSchema, async (input, { caller }) => {
  await removeMember(caller, input);
  refresh();
  return { ok: true, message: "Member removed." };
});
