import { z } from "zod";

const idSchema = z.string().uuid("That is not a valid id.");

export const registerKeySchema = z.object({
  tenantId: idSchema,
  arn: z.string({ message: "Paste your KMS key ARN." }).trim().min(1, "Paste your KMS key ARN.").max(2048, "That is too long to be a KMS key ARN."),
  /** Grant ids, separated by spaces, commas or new lines (lib/keys/grant-ids.ts checks each). */
  grantIds: z.string().trim().max(2000, "That is too long for a list of grant ids.").optional(),
});

export const keyGrantsSchema = z.object({
  tenantId: idSchema,
  kmsKeyId: idSchema,
  grantIds: z.string().trim().max(2000, "That is too long for a list of grant ids.").default(""),
});

export const keyActionSchema = z.object({ tenantId: idSchema, kmsKeyId: idSchema });

/** Removing a key: the tenant's URL name only says where to go afterwards. */
export const removeKeySchema = keyActionSchema.extend({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "That is not a tenant URL name.") });

export const tenantActionSchema = z.object({
  tenantId: idSchema,
  /** The tenant's URL name, typed by the admin to confirm a revocation. */
  confirm: z.string().trim().optional(),
});
