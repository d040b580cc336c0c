"use server";

import { revalidatePath } from "next/cache";
import { signCheckpointNow } from "@/lib/audit/integrity/checkpoints";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { tenantIdSchema } from "@/lib/validation/audit-integrity";

// lib/audit decides, on the server, who may sign (tenant admins and auditors) and audits it.

export async function signCheckpointAction(_prev: ActionResult<{ seq: string }> | null, formData: FormData) {
  return actionResult<{ seq: string }>(formData, async () => {
    const principal = await getPrincipal();
    if (!principal) return { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." };
    const input = parseForm(tenantIdSchema, formData);
    if (!input.ok) return input.result;
    const checkpoint = await signCheckpointNow(await callerFor(principal), input.data.tenantId);
    revalidatePath("/t/[slug]/audit/integrity", "page");
    return { ok: true, message: `Signed a checkpoint of event #${checkpoint.seq}.`, data: { seq: checkpoint.seq.toString() } };
  });
}
