-- Invitations expire. A membership is an invitation until its person first uses it
-- ("accepted_at"); until then it grants access only while "invite_expires_at" is in the future.
-- NULL means an invitation that never expires: every membership made before this migration, so
-- nobody loses access by it. Memberships whose person has signed in since count as accepted.
ALTER TABLE "memberships"
    ADD COLUMN "invite_expires_at" TIMESTAMPTZ(3),
    ADD COLUMN "accepted_at" TIMESTAMPTZ(3);

UPDATE "memberships" m
   SET "accepted_at" = u."last_sign_in_at"
  FROM "users" u
 WHERE u."id" = m."user_id" AND u."last_sign_in_at" IS NOT NULL AND u."last_sign_in_at" >= m."created_at";
