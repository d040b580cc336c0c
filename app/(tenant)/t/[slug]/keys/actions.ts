"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import {
  registerKmsKey,
  removeKmsKey,
  restoreAccess,
  type RestoreResult,
  revokeAccess,
  type RevokeResult,
  setKeyGrants,
} from "@/lib/keys";
import { keyGrantsSchema, registerKeySchema, removeKeySchema, tenantActionSchema } from "@/lib/validation/keys";

// The forms only hide what a role cannot do; lib/keys decides, on the server, and audits.

async function signedInCaller() {
  const principal = await getPrincipal();
  return principal ? callerFor(principal) : null;
}

const SIGNED_OUT = { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." } as const;

export async function registerKeyAction(_prev: ActionResult<{ kmsKeyId: string }> | null, formData: FormData) {
  return actionResult<{ kmsKeyId: string }>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(registerKeySchema, formData);
    if (!input.ok) return input.result;
    const { kmsKeyId } = await registerKmsKey(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    return { ok: true, message: "Key registered. Grant Custody access on your side, then verify.", data: { kmsKeyId } };
  });
}

export async function setKeyGrantsAction(_prev: ActionResult<{ grantIds: string[] }> | null, formData: FormData) {
  return actionResult<{ grantIds: string[] }>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(keyGrantsSchema, formData);
    if (!input.ok) return input.result;
    const result = await setKeyGrants(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    const n = result.grantIds.length;
    return { ok: true, data: result, message: n === 0 ? "No grants recorded for this key." : `${n} grant${n === 1 ? "" : "s"} recorded: Custody retires ${n === 1 ? "it" : "them"} when you revoke.` };
  });
}

export async function removeKeyAction(_prev: ActionResult | null, formData: FormData) {
  let removedFrom: string | undefined;
  const result = await actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(removeKeySchema, formData);
    if (!input.ok) return input.result;
    await removeKmsKey(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    removedFrom = input.data.slug;
    return { ok: true, message: "Key removed." };
  });
  // The key's page no longer exists: leave it from the server (its re-render would be a 404).
  if (result.ok && removedFrom) redirect(`/t/${removedFrom}/keys`);
  return result;
}

export async function revokeAccessAction(_prev: ActionResult<RevokeResult> | null, formData: FormData) {
  return actionResult<RevokeResult>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(tenantActionSchema, formData);
    if (!input.ok) return input.result;
    const result = await revokeAccess(caller, { tenantId: input.data.tenantId });
    revalidatePath("/t/[slug]", "layout");
    return { ok: true, data: result, message: `Access revoked in ${result.tookMs} ms.` };
  });
}

export async function restoreAccessAction(_prev: ActionResult<RestoreResult> | null, formData: FormData) {
  return actionResult<RestoreResult>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(tenantActionSchema, formData);
    if (!input.ok) return input.result;
    const result = await restoreAccess(caller, { tenantId: input.data.tenantId });
    revalidatePath("/t/[slug]", "layout");
    return {
      ok: true,
      data: result,
      message: result.restored ? "Access restored after a successful verification." : "The key did not verify, so access stays revoked.",
    };
  });
}
