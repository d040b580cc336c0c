-- The live audit view (lib/audit/live-hub.ts): every committed append wakes the console
-- processes LISTENing on custody_audit, whichever process wrote it (the console's
-- appendAuditEvent, a key service's custody_append_audit_batch, npm run seed:audit).
--
-- The trigger sits on the chain head, not on audit_events: every append advances its chain's
-- `audit_chains.seq` in the same transaction as its inserts (that is what keeps a chain
-- verifiable: verifyStoredChain refuses a chain whose events do not end at the recorded head),
-- so "the head's seq moved" is exactly "events were appended", and it fires once per chain per
-- append statement instead of once per event. Measured on this machine, a row trigger on
-- audit_events added about 25 µs to every inserted event (a quarter of a plain multi-row
-- insert's cost, and 10 million of them for a seeded trail); this one costs one call per
-- group-committed batch and chain.
--
-- The payload is only the chain id (a tenant id, or 'vendor'), never event data: listeners
-- re-read the chain through their own filter. PostgreSQL folds identical notifications of one
-- transaction into one, delivers them only when it commits, and drops them if it rolls back.
CREATE FUNCTION "custody_audit_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('custody_audit', NEW.chain);
    RETURN NULL;
END;
$$;

CREATE TRIGGER "audit_chains_notify"
    AFTER INSERT OR UPDATE OF "seq" ON "audit_chains"
    FOR EACH ROW EXECUTE FUNCTION "custody_audit_notify"();
