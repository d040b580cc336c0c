import { z } from "zod";

const idSchema = z.string().uuid("That is not a valid id.");

/**
 * Registering a key: the tenant, the chosen provider and that provider's own fields (validated by
 * the provider's schema in lib/keys/register-kms-key.ts, with its messages).
 */
export const registerKeySchema = z
  .object({
    tenantId: idSchema,
    provider: z.string({ message: "Choose a KMS provider." }).trim().min(1, "Choose a KMS provider.").max(40, "Choose a KMS provider."),
  })
  .catchall(z.string().max(8192, "That is too long."));

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

/** Rotating the tenant's KMS key: re-wrap what `kmsKeyId` wraps under the primary key. */
export const startRotationSchema = keyActionSchema;

/** Resuming or rolling back a rotation that stopped on an error. */
export const rotationActionSchema = z.object({ tenantId: idSchema, rotationId: idSchema });

/** Retiring a KMS key nothing depends on: the dialog's confirmation sends "retire". */
export const retireKeySchema = keyActionSchema.extend({
  confirm: z.literal("retire", { message: "Confirm that the key is to be retired." }),
});

/** Rotate now: a new tenant key version under the primary KMS key. */
export const rotateTenantKeySchema = z.object({ tenantId: idSchema });

/** Longest rotation schedule and quiet period the console accepts (ten years). */
export const MAX_KEY_DAYS = 3650;
const days = (what: string) =>
  z.coerce
    .number({ message: `${what} must be a whole number of days.` })
    .int(`${what} must be a whole number of days.`)
    .min(1, `${what} must be at least 1 day.`)
    .max(MAX_KEY_DAYS, `${what} may be at most ${MAX_KEY_DAYS} days.`);

/** The rotation schedule: a number of days, or empty / "off" for none. */
export const rotationScheduleSchema = z.object({
  tenantId: idSchema,
  days: z.preprocess(
    (value) => (typeof value === "string" && ["", "off"].includes(value.trim().toLowerCase()) ? null : value),
    days("The rotation period").nullable(),
  ),
});

/** Retiring a version: the version typed back ("v1") to confirm, and the quiet period required. */
export const retireTenantKeySchema = z.object({
  tenantId: idSchema,
  tenantKeyId: idSchema,
  quietDays: days("The quiet period"),
  confirm: z.string().trim().max(16, "Type the version, e.g. v1."),
});
