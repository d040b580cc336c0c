"use server";

import { revalidatePath } from "next/cache";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { createServiceCredential, revokeServiceCredential, rotateServiceCredential } from "@/lib/credentials";
import { type ActionResult, actionResult, parseForm } from "@/lib/http/action-result";
import { createCredentialFormSchema, credentialActionSchema } from "@/lib/validation/credentials";

// The page only shows these to vendor admins; lib/credentials decides, and audits refusals.

/** What the browser gets once, right after a create or rotate: the token is never retrievable again. */
export type IssuedToken = { name: string; token: string };

async function signedInCaller() {
  const principal = await getPrincipal();
  return principal ? callerFor(principal) : null;
}

const SIGNED_OUT = { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again." } as const;
const PATH = "/vendor/credentials";

export async function createCredentialAction(_prev: ActionResult<IssuedToken> | null, formData: FormData) {
  return actionResult<IssuedToken>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(createCredentialFormSchema, formData);
    if (!input.ok) return input.result;
    const created = await createServiceCredential(caller, input.data);
    revalidatePath(PATH);
    return { ok: true, message: `Credential "${created.name}" created.`, data: { name: created.name, token: created.token } };
  });
}

export async function rotateCredentialAction(_prev: ActionResult<IssuedToken> | null, formData: FormData) {
  return actionResult<IssuedToken>(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(credentialActionSchema, formData);
    if (!input.ok) return input.result;
    const rotated = await rotateServiceCredential(caller, input.data);
    revalidatePath(PATH);
    return {
      ok: true,
      message: `"${rotated.name}" rotated: the new credential and the old one both work until you revoke the old one.`,
      data: { name: rotated.name, token: rotated.token },
    };
  });
}

export async function revokeCredentialAction(_prev: ActionResult | null, formData: FormData): Promise<ActionResult> {
  return actionResult(formData, async () => {
    const caller = await signedInCaller();
    if (!caller) return SIGNED_OUT;
    const input = parseForm(credentialActionSchema, formData);
    if (!input.ok) return input.result;
    const revoked = await revokeServiceCredential(caller, input.data);
    revalidatePath(PATH);
    return { ok: true, message: `"${revoked.name}" is revoked; the key service refuses it from now on.` };
  });
}
