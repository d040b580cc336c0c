-- audit_events, partitioned by month on occurred_at (issue 17). Each month is its own table
-- with its own indexes, so the indexes every append maintains stay the size of one month, and
-- retention drops whole months (DROP TABLE, no row-by-row DELETE, no bloat) once every chain's
-- events in them are behind its signed retention anchor (lib/audit/trail/partitions.ts).
--
-- Keys. A partitioned table's primary and unique keys must contain the partition key, so the
-- primary key is (chain, seq, occurred_at) and replaces both the bigint id key and the unique
-- (chain, seq): chain first, as every reader looks an event up by chain and seq, and as a
-- distributed PostgreSQL (Citus, distributing by chain) requires the distribution column in
-- every primary and unique key (ARCHITECTURE.md, "How Custody grows past one machine"). That
-- (chain, seq) is unique across months is kept by the chain head: audit_chains.seq hands out
-- each seq once under its row lock, and verification reports an extra event at any seq.
-- `id` stays, from the same sequence, as a plain column (the batch append returns it); nothing
-- references it.
--
-- The existing rows move into monthly partitions covering every month they span. Partitions
-- ahead of time come from custody_audit_ensure_partitions (the audit-partitions job, and this
-- migration for the current and next month); a DEFAULT partition catches anything outside
-- them, so an append never fails for want of a partition.
--
-- The indexes are whatever audit_events had when this migration runs (an earlier migration
-- may have moved some off the hot table), recreated on the partitioned table, except the two
-- unique ones the primary key replaces.

CREATE TEMP TABLE "audit_events_index_defs" ON COMMIT DROP AS
    SELECT c.relname::text AS name, pg_get_indexdef(x.indexrelid) AS def
      FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
     WHERE x.indrelid = 'audit_events'::regclass
       AND NOT x.indisprimary AND c.relname <> 'audit_events_chain_seq_key';

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM audit_events_index_defs LOOP
        EXECUTE format('DROP INDEX %I', r.name);
    END LOOP;
END;
$$;
DROP INDEX "audit_events_chain_seq_key";
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_pkey";
ALTER SEQUENCE "audit_events_id_seq" OWNED BY NONE;
ALTER TABLE "audit_events" RENAME TO "audit_events_unpartitioned";

CREATE TABLE "audit_events" (
    "id" BIGINT NOT NULL DEFAULT nextval('audit_events_id_seq'),
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "tenant_id" UUID,
    "actor_type" "actor_type" NOT NULL,
    "actor_id" TEXT,
    "actor_label" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "outcome" "audit_outcome" NOT NULL,
    "source_ip" TEXT,
    "user_agent" TEXT,
    "request_id" TEXT,
    "details" JSONB,
    "prev_hash" CHAR(64) NOT NULL,
    "hash" CHAR(64) NOT NULL,
    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("chain", "seq", "occurred_at")
) PARTITION BY RANGE ("occurred_at");
ALTER SEQUENCE "audit_events_id_seq" OWNED BY "audit_events"."id";

CREATE TABLE "audit_events_default" PARTITION OF "audit_events" DEFAULT;

-- Creates the monthly partitions (UTC months, named audit_events_yYYYYmMM) from `from_month`
-- through `through_month` that do not exist yet; returns how many it created. A month whose
-- events already sit in the default partition is refused with a clear error (moving them is
-- an operator's decision); the job runs months ahead, so that needs it to have been stopped
-- for months.
CREATE FUNCTION "custody_audit_ensure_partitions"("from_month" timestamptz, "through_month" timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m timestamp;
    last timestamp := date_trunc('month', through_month AT TIME ZONE 'UTC');
    name text;
    created integer := 0;
BEGIN
    m := date_trunc('month', from_month AT TIME ZONE 'UTC');
    WHILE m <= last LOOP
        name := 'audit_events_' || to_char(m, '"y"YYYY"m"MM');
        IF to_regclass(quote_ident(name)) IS NULL THEN
            IF EXISTS (SELECT 1 FROM audit_events_default
                        WHERE occurred_at >= (m AT TIME ZONE 'UTC') AND occurred_at < ((m + interval '1 month') AT TIME ZONE 'UTC')) THEN
                RAISE EXCEPTION 'audit_events: events of % are in the default partition; move them before creating partition %',
                    to_char(m, 'YYYY-MM'), name USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                           name, (m AT TIME ZONE 'UTC'), ((m + interval '1 month') AT TIME ZONE 'UTC'));
            -- Statement triggers are not cloned onto partitions: a partition refuses TRUNCATE itself.
            EXECUTE format('CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()', name);
            created := created + 1;
        END IF;
        m := m + interval '1 month';
    END LOOP;
    RETURN created;
END;
$$;

-- Every month the existing rows span, and the current and next month.
SELECT "custody_audit_ensure_partitions"(
    least(coalesce((SELECT min(occurred_at) FROM audit_events_unpartitioned), now()), now()),
    greatest(coalesce((SELECT max(occurred_at) FROM audit_events_unpartitioned), now()), now() + interval '1 month'));

INSERT INTO "audit_events" SELECT * FROM "audit_events_unpartitioned";
DROP TABLE "audit_events_unpartitioned";

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT def FROM audit_events_index_defs ORDER BY name LOOP
        EXECUTE r.def;
    END LOOP;
END;
$$;

-- Append-only, as before (the function is the one of migration 20261129060000, which lets
-- retention's row deletes behind an anchor through).
-- Row triggers on the partitioned table are cloned onto every partition, present and future;
-- statement (TRUNCATE) triggers are not, so each partition gets its own (above).
CREATE TRIGGER "audit_events_no_update_delete"
    BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
CREATE TRIGGER "audit_events_no_truncate"
    BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
CREATE TRIGGER "audit_events_no_truncate"
    BEFORE TRUNCATE ON "audit_events_default"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- Retention's whole-month drop. Refuses the default partition, a month that has not ended, and
-- a month holding an event of any chain beyond that chain's retention anchor: the anchor (which
-- the database only accepts at or behind a signed checkpoint, migration 20261129090000) must
-- already say that every event of the month may be gone, so the verifier starts after them.
-- Returns the number of events dropped.
CREATE FUNCTION "custody_audit_drop_partition"("part" text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    rel regclass := to_regclass(quote_ident(part));
    bound text;
    upper_bound timestamptz;
    uncovered record;
    dropped bigint;
BEGIN
    IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = rel AND i.inhparent = 'audit_events'::regclass) THEN
        RAISE EXCEPTION 'audit_events: % is not a partition of audit_events', part USING ERRCODE = 'invalid_parameter_value';
    END IF;
    bound := pg_get_expr((SELECT c.relpartbound FROM pg_class c WHERE c.oid = rel), rel);
    IF bound = 'DEFAULT' THEN
        RAISE EXCEPTION 'audit_events: the default partition is never dropped' USING ERRCODE = 'insufficient_privilege';
    END IF;
    upper_bound := substring(bound FROM 'TO \(''([^'']+)''\)')::timestamptz;
    IF upper_bound IS NULL OR upper_bound > now() THEN
        RAISE EXCEPTION 'audit_events: partition % has not ended (it runs to %)', part, upper_bound USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- No append can land in it while this transaction holds it.
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', rel);
    EXECUTE format(
        'SELECT p.chain, p.last, a.seq AS anchor FROM (SELECT chain, max(seq) AS last FROM %s GROUP BY chain) p
           LEFT JOIN audit_anchors a ON a.chain = p.chain WHERE a.seq IS NULL OR a.seq < p.last ORDER BY p.chain LIMIT 1', rel)
       INTO uncovered;
    IF uncovered.chain IS NOT NULL THEN
        RAISE EXCEPTION 'audit_events: partition % holds events of chain % up to #% that no retention anchor covers (its anchor is at #%)',
            part, uncovered.chain, uncovered.last, coalesce(uncovered.anchor::text, 'none') USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', rel) INTO dropped;
    EXECUTE format('ALTER TABLE audit_events DETACH PARTITION %s', rel);
    EXECUTE format('DROP TABLE %s', rel);
    RETURN dropped;
END;
$$;

-- audit_checkpoints, too, keyed by chain first (its id stays unique by its sequence; the
-- unique (chain, seq) was already so), so every key of the audit tables holds the chain.
ALTER TABLE "audit_checkpoints" DROP CONSTRAINT "audit_checkpoints_pkey";
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY ("chain", "id");

ANALYZE "audit_events";
