-- Signed checkpoints and retention for the audit trail (lib/audit/checkpoints.ts, lib/audit/prune.ts).

-- A checkpoint is the deployment key's Ed25519 signature over a chain's head at one moment:
-- the statement signed is rebuilt from these columns (lib/audit/checkpoint-statement.ts), so a
-- row whose fields were changed no longer verifies. One checkpoint per (chain, seq): several
-- instances signing the same head insert once (ON CONFLICT DO NOTHING).
CREATE TABLE "audit_checkpoints" (
    "id" BIGSERIAL NOT NULL,
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "head_hash" CHAR(64) NOT NULL,
    "signed_at" TIMESTAMPTZ(3) NOT NULL,
    "key_id" TEXT NOT NULL,
    "signature" BYTEA NOT NULL,
    CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "audit_checkpoints_chain_seq_key" ON "audit_checkpoints"("chain", "seq");

-- Checkpoints are evidence: like the events, they are never changed or removed.
CREATE FUNCTION "audit_checkpoints_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "audit_checkpoints_no_update_delete"
    BEFORE UPDATE OR DELETE ON "audit_checkpoints"
    FOR EACH ROW EXECUTE FUNCTION "audit_checkpoints_append_only"();
CREATE TRIGGER "audit_checkpoints_no_truncate"
    BEFORE TRUNCATE ON "audit_checkpoints"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_checkpoints_append_only"();

-- Where a pruned chain now starts: the seq and hash of the last pruned event. Verification
-- starts from here instead of the genesis hash. A table of its own rather than columns on
-- audit_chains, so pruning never holds the chain head's row lock (the key service's hot path).
CREATE TABLE "audit_anchors" (
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" CHAR(64) NOT NULL,
    "pruned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "audit_anchors_pkey" PRIMARY KEY ("chain")
);

-- The append-only rule, with one exception: the pruning path (lib/audit/prune.ts) may delete
-- events at or behind its chain's anchor, which it moves forward in the same transaction, and
-- only after announcing itself with a transaction-local setting. An ordinary DELETE, an
-- UPDATE and TRUNCATE are still refused. (This guards against mistakes and the application's
-- own bugs; someone who can disable triggers is caught by verification and the checkpoints.)
CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('custody.audit_prune', true) = 'on'
       AND EXISTS (SELECT 1 FROM "audit_anchors" a WHERE a."chain" = OLD."chain" AND OLD."seq" <= a."seq") THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- An anchor only moves forward and is never removed: history once pruned stays pruned, and a
-- chain cannot be made to start earlier than it does.
CREATE FUNCTION "audit_anchors_forward_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW."chain" = OLD."chain" AND NEW."seq" > OLD."seq" THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_anchors only move forward: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "audit_anchors_forward_only"
    BEFORE UPDATE OR DELETE ON "audit_anchors"
    FOR EACH ROW EXECUTE FUNCTION "audit_anchors_forward_only"();
CREATE TRIGGER "audit_anchors_no_truncate"
    BEFORE TRUNCATE ON "audit_anchors"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_anchors_forward_only"();
