-- Retention's anchor must be vouched for by a signed checkpoint (lib/audit/prune.ts).
--
-- Without this, anyone with the application's database login could set an anchor anywhere
-- (with the real hash of the event there), delete everything behind it through the pruning
-- exception of the append-only trigger, and append a matching audit.pruned event: the trail
-- would verify, with no signed checkpoint left to contradict it. So an anchor may only be set
-- or moved to a seq at or before the chain's newest signed checkpoint, and only with the hash
-- stored for the event at that seq at the time (pruning moves the anchor before it deletes, so
-- the event is still there). The events from the anchor up to that checkpoint then link the
-- anchor to a signed head, which verification checks (lib/audit/verify-chain.ts).
--
-- Checkpoints are append-only and events cannot be changed, so neither check can be undone
-- later by the same login. Someone who can switch triggers off is caught by verification.
CREATE FUNCTION "audit_anchors_vouched"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    newest BIGINT;
    stored CHAR(64);
BEGIN
    SELECT max(k."seq") INTO newest FROM "audit_checkpoints" k WHERE k."chain" = NEW."chain";
    IF newest IS NULL OR NEW."seq" < 1 OR NEW."seq" > newest THEN
        RAISE EXCEPTION 'audit_anchors: an anchor at #% is not covered by a signed checkpoint: the newest signed checkpoint of this chain is %',
            NEW."seq", coalesce('#' || newest, 'none')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT e."hash" INTO stored FROM "audit_events" e WHERE e."chain" = NEW."chain" AND e."seq" = NEW."seq";
    IF stored IS NULL OR stored <> NEW."hash" THEN
        RAISE EXCEPTION 'audit_anchors: the anchor hash does not match the stored hash of event #% (or that event is gone)', NEW."seq"
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
-- After "audit_anchors_forward_only" (triggers fire in name order), so a move backwards is
-- still refused as such.
CREATE TRIGGER "audit_anchors_vouched"
    BEFORE INSERT OR UPDATE ON "audit_anchors"
    FOR EACH ROW EXECUTE FUNCTION "audit_anchors_vouched"();
