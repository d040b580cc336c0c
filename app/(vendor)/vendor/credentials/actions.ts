"use server";

import { revalidatePath } from "next/cache";
import { createServiceCredential, revokeServiceCredential, rotateServiceCredential } from "@/lib/credentials";
import { authedAction } from "@/lib/http/authed-action";
import { createCredentialFormSchema, credentialActionSchema } from "@/lib/validation/credentials";

// The page only shows these to vendor admins; lib/credentials decides, and audits refusals.

/** What the browser gets once, right after a create or rotate: the token is never retrievable again. */
export type IssuedToken = { name: string; token: string };

const PATH = "/vendor/credentials";

export const createCredentialAction = authedAction(
  createCredentialFormSchema,
  async (input, { caller }) => {
    const created = await createServiceCredential(caller, input);
    revalidatePath(PATH);
    return { ok: true, message: `Credential "${created.name}" created.`, data: { name: created.name, token: created.token } };
  },
);

export const rotateCredentialAction = authedAction(credentialActionSchema, async (input, { caller }) => {
  const rotated = await rotateServiceCredential(caller, input);
  revalidatePath(PATH);
  return {
    ok: true,
    message: `"${rotated.name}" rotated: the new credential and the old one both work until you revoke the old one.`,
    data: { name: rotated.name, token: rotated.token },
  };
});

export const revokeCredentialAction = authedAction(credentialActionSchema, async (input, { caller }) => {
  const revoked = await revokeServiceCredential(caller, input);
  revalidatePath(PATH);
  return { ok: true, message: `"${revoked.name}" is revoked; the key service refuses it from now on.` };
});
