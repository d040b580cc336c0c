import { z } from "zod";
import { SERVICE_SCOPES, type ServiceScope } from "./keyservice";
import { TEXT_LIMITS, tooLongMessage } from "./limits";

// Service credentials (lib/credentials): what a vendor admin submits, shared by the vendor
// page's forms and the data layer.

// Control and invisible formatting characters could make two names look alike or a name read
// as something else in the audit trail.
const VISIBLE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

export const credentialNameSchema = z
  .string({ message: "Enter a name for the credential." })
  .trim()
  .min(1, "Enter a name for the credential.")
  .max(TEXT_LIMITS.name, tooLongMessage(TEXT_LIMITS.name))
  .regex(VISIBLE_TEXT, "Use visible characters only (no control or direction-override characters).");

/** At least one scope; duplicates dropped, in the canonical order wrap, unwrap, rekey. */
export const credentialScopesSchema = z
  .array(z.enum(SERVICE_SCOPES, { message: `Scopes are ${SERVICE_SCOPES.join(", ")}.` }), { message: "Choose at least one scope." })
  .min(1, "Choose at least one scope.")
  .transform((scopes) => SERVICE_SCOPES.filter((s) => scopes.includes(s)));

const idSchema = z.uuid("That is not a valid id.");

export const createCredentialSchema = z.object({
  name: credentialNameSchema,
  scopes: credentialScopesSchema,
  /** Restricts the credential to one tenant; absent (or empty, from a form) means every tenant. */
  tenantId: z.preprocess((v) => (v === "" || v === null ? undefined : v), idSchema.optional()),
});
export type CreateCredentialInput = z.input<typeof createCredentialSchema>;

/**
 * The create form posts each scope as its own checkbox (`scope_wrap=on`, …), so the submitted
 * fields survive a refused submission and refill the form; this turns them into `scopes`.
 */
export const createCredentialFormSchema = z.preprocess((raw) => {
  const form = (raw ?? {}) as Record<string, unknown>;
  return {
    name: form.name,
    scopes: SERVICE_SCOPES.filter((scope) => form[scopeField(scope)] === "on"),
    tenantId: form.tenantId,
  };
}, createCredentialSchema);

export function scopeField(scope: ServiceScope): string {
  return `scope_${scope}`;
}

export const credentialActionSchema = z.object({ credentialId: idSchema });
export type CredentialActionInput = z.infer<typeof credentialActionSchema>;
