import { z } from "zod";
import { emailSchema } from "./email";
import { TEXT_LIMITS, tooLongMessage } from "./limits";

export const tenantRoleSchema = z.enum(["admin", "auditor"], { message: "Choose admin or auditor." });
export type TenantRoleName = z.infer<typeof tenantRoleSchema>;

export const slugSchema = z
  .string({ message: "Enter a short name for URLs." })
  .trim()
  .toLowerCase()
  .min(2, "Use at least 2 characters.")
  .max(TEXT_LIMITS.slug, tooLongMessage(TEXT_LIMITS.slug))
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "Use lower-case letters, digits and single dashes, like acme-corp.");

// Control and invisible formatting characters (e.g. right-to-left overrides) can make a name
// display as something else, so names may not contain them.
const VISIBLE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

export const createTenantSchema = z.object({
  name: z
    .string({ message: "Enter the customer's name." })
    .trim()
    .min(1, "Enter the customer's name.")
    .min(2, "Use at least 2 characters.")
    .max(TEXT_LIMITS.name, tooLongMessage(TEXT_LIMITS.name))
    .regex(VISIBLE_TEXT, "Use visible characters only (no control or direction-override characters)."),
  slug: slugSchema,
  adminEmail: emailSchema,
});
export type CreateTenantInput = z.infer<typeof createTenantSchema>;

const idSchema = z.string().uuid("That is not a valid id.");

export const addMemberSchema = z.object({
  tenantId: idSchema,
  email: emailSchema,
  role: tenantRoleSchema,
});

export const changeMemberRoleSchema = z.object({
  tenantId: idSchema,
  membershipId: idSchema,
  role: tenantRoleSchema,
});

export const removeMemberSchema = z.object({
  tenantId: idSchema,
  membershipId: idSchema,
});

export const resendInvitationSchema = removeMemberSchema;
