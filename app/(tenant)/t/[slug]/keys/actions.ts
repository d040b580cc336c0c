"use server";

import { revalidatePath } from "next/cache";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { registerKmsKey, restoreAccess, type RestoreResult, revokeAccess, type RevokeResult, verifyKmsKey, type VerifyResult } from "@/lib/keys";
import { keyActionSchema, registerKeySchema, tenantActionSchema } from "@/lib/validation/keys";

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

export async function verifyKeyAction(_prev: ActionResult<VerifyResult> | null, formData: FormData) {
  return actionResult<VerifyResult>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(keyActionSchema, formData);
    if (!input.ok) return input.result;
    const result = await verifyKmsKey(caller, input.data);
    revalidatePath("/t/[slug]", "layout");
    return {
      ok: true,
      data: result,
      message: !result.ok
        ? "Verification failed. See the failing step below."
        : result.becamePrimary
          ? "Verified. This key is now the tenant's primary key and the vendor's access is active."
          : "Verified. Access stays revoked until you restore it.",
    };
  });
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
