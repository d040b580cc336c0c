"use server";

import { revalidatePath } from "next/cache";
import { setKmsRotationPolicy } from "@/lib/fleet/kms-rotation";
import { authedAction } from "@/lib/http/authed-action";
import { kmsRotationPolicySchema } from "@/lib/validation/kms-rotation";

// The tenant overview's one form: the KMS-key rotation policy. The data layer checks the role
// and audits the change or the refusal.

export const setKmsRotationPolicyAction = authedAction(kmsRotationPolicySchema, async (input, { caller }) => {
  const { days, changed } = await setKmsRotationPolicy(caller, input);
  revalidatePath("/t/[slug]", "layout");
  const policy = days === null ? "No rotation reminders." : `Reminders once the primary KMS key is older than ${days} day${days === 1 ? "" : "s"}.`;
  return { ok: true, message: changed ? `Rotation policy saved. ${policy}` : `Nothing changed. ${policy}` };
});
