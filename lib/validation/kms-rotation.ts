import { z } from "zod";

// A tenant's KMS-key rotation policy, as its admin sets it on the overview: a number of days,
// or empty for no reminders.

export const KMS_ROTATION_DAYS = { min: 1, max: 3650, default: 365 } as const;

export const kmsRotationPolicySchema = z.object({
  tenantId: z.string().uuid("That is not a valid id."),
  days: z
    .string()
    .trim()
    .max(5, `Enter a whole number of days from ${KMS_ROTATION_DAYS.min} to ${KMS_ROTATION_DAYS.max}, or leave it empty.`)
    .regex(/^\d*$/, `Enter a whole number of days from ${KMS_ROTATION_DAYS.min} to ${KMS_ROTATION_DAYS.max}, or leave it empty.`)
    .transform((text) => (text === "" ? null : Number(text)))
    .refine((days) => days === null || (days >= KMS_ROTATION_DAYS.min && days <= KMS_ROTATION_DAYS.max), {
      message: `Enter a whole number of days from ${KMS_ROTATION_DAYS.min} to ${KMS_ROTATION_DAYS.max}, or leave it empty.`,
    }),
});
export type KmsRotationPolicyInput = z.infer<typeof kmsRotationPolicySchema>;
