"use server";

import { revalidatePath } from "next/cache";
import { signCheckpointNow } from "@/lib/audit/checkpoints";
import { authedAction } from "@/lib/http/authed-action";
import { tenantIdSchema } from "@/lib/validation/audit-integrity";

// lib/audit decides, on the server, who may sign (tenant admins and auditors) and audits it.

export const signCheckpointAction = authedAction(tenantIdSchema, async (input, { caller }) => {
  const checkpoint = await signCheckpointNow(caller, input.tenantId);
  revalidatePath("/t/[slug]/audit/integrity", "page");
  return { ok: true, message: `Signed a checkpoint of event #${checkpoint.seq}.`, data: { seq: checkpoint.seq.toString() } };
});
