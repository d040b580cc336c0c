-- KMS-key rotation reminders (issue 16). A tenant's rotation policy: how many days its primary
-- KMS key may serve, counted from the key's registration, before the tenant is reminded to
-- rotate it; NULL turns reminders off. Existing and new tenants start at 365 days.
ALTER TABLE "tenants" ADD COLUMN "kms_rotation_days" INTEGER DEFAULT 365;
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_kms_rotation_days_range" CHECK ("kms_rotation_days" IS NULL OR "kms_rotation_days" BETWEEN 1 AND 3650);

-- One row per reminder sent: a key, the due date it was overdue against (a changed policy is a
-- new due date), and which reminder period past that date. The job inserts the row and the
-- audit event in one transaction, so each period is reminded once however often it runs. No
-- foreign key: a row only says a reminder went out; one of a removed key is inert.
CREATE TABLE "kms_rotation_reminders" (
    "kms_key_id" UUID NOT NULL,
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "period" INTEGER NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "kms_rotation_reminders_pkey" PRIMARY KEY ("kms_key_id", "due_at", "period")
);
