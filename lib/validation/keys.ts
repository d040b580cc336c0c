import { z } from "zod";

const idSchema = z.string().uuid("That is not a valid id.");

export const registerKeySchema = z.object({
  tenantId: idSchema,
  arn: z.string({ message: "Paste your KMS key ARN." }).trim().min(1, "Paste your KMS key ARN.").max(2048, "That is too long to be a KMS key ARN."),
  grantId: z.string().trim().max(128, "That is too long to be a grant id.").optional(),
});

export const keyActionSchema = z.object({ tenantId: idSchema, kmsKeyId: idSchema });

export const tenantActionSchema = z.object({
  tenantId: idSchema,
  /** The tenant's URL name, typed by the admin to confirm a revocation. */
  confirm: z.string().trim().optional(),
});
