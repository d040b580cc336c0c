"use server";

import { revalidatePath } from "next/cache";
import { authedAction } from "@/lib/http/authed-action";
import { getConfig } from "@/lib/config";
import { addMember, changeMemberRole, removeMember, resendInvitation } from "@/lib/tenants";
import { addMemberSchema, changeMemberRoleSchema, removeMemberSchema, resendInvitationSchema } from "@/lib/validation/tenants";

// Each action re-checks everything on the server: the forms only hide what a role cannot do;
// the data layer (lib/tenants) decides, and audits refusals.

function refresh() {
  revalidatePath("/t/[slug]", "layout");
}

export const addMemberAction = authedAction(addMemberSchema, async (input, { caller }) => {
  await addMember(caller, input);
  refresh();
  const days = getConfig().INVITATION_DAYS;
  return {
    ok: true,
    message: `${input.email} was invited as ${input.role}. Ask them to sign in to Custody with SSO as ${input.email} within ${days} days; after that, re-send the invitation.`,
  };
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

export const resendInvitationAction = authedAction(resendInvitationSchema, async (input, { caller }) => {
  await resendInvitation(caller, input);
  refresh();
  return { ok: true, message: `Invitation re-sent: it can be used for ${getConfig().INVITATION_DAYS} more days.` };
});
