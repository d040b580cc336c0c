-- Search moves off the hot table (issue 17, measured by `npm run bench:audit-insert`; figures in
-- ARCHITECTURE.md, "Audit storage"). Every index on audit_events is maintained inside the
-- audited request's commit; the trigram GIN over the free text and the jsonb GIN over details
-- were the most expensive of them, and the btree indexes that served only the details-backed
-- filters (actor, data label, request id) went with them. What reads the chain (live view,
-- sinks, integrity, export's rows, usage) keeps its indexes on audit_events.
--
-- audit_search holds, per event, what the free-text and the details-backed filters match on,
-- filled just behind the chain by the `audit-search` job (lib/audit/search) from a watermark per
-- chain, like the usage rollups: `indexed_seq` = every event of the chain with seq <= it is in
-- audit_search. Rows and watermark move in one transaction, so a reader that takes the
-- watermark and the rows in one statement sees them agree, and adds the events above the
-- watermark (the tail) from audit_events itself: search never silently misses recent events.
--
-- The chain is the first column of every key and index (a later step may distribute the audit
-- tables by chain).

-- The tagged values the details-backed filters match exactly: actor (the credential or person's
-- label, and the end user a service acted for), label (the single-item data label, and each of a
-- batch's), object (one or each of a batch's), request (the caller's request id, and Custody's
-- own when the caller sent theirs). Equal to the conditions they replace on audit_events
-- (lib/audit/query/query.ts). A filter value has at most 200 characters, so longer values can
-- never match one and are left out (which keeps every entry far below a GIN entry's limit).
CREATE FUNCTION "custody_audit_search_refs"("actor_label" text, "request_id" text, "details" jsonb)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT r FROM unnest(ARRAY[
            'actor:' || actor_label,
            CASE WHEN jsonb_typeof(details -> 'onBehalfOf') = 'string' THEN 'actor:' || (details ->> 'onBehalfOf') END,
            'label:' || (details ->> 'dataLabel'),
            CASE WHEN jsonb_typeof(details -> 'objectId') = 'string' THEN 'object:' || (details ->> 'objectId') END,
            'request:' || request_id,
            CASE WHEN jsonb_typeof(details -> 'custodyRequestId') = 'string' THEN 'request:' || (details ->> 'custodyRequestId') END
        ]) AS r
        WHERE r IS NOT NULL AND length(r) <= 208
        UNION ALL
        SELECT l.tag || (v #>> '{}')
          FROM (VALUES ('label:', details -> 'dataLabels'), ('object:', details -> 'objectIds')) AS l(tag, list),
               jsonb_array_elements(CASE WHEN jsonb_typeof(l.list) = 'array' THEN l.list ELSE '[]' END) AS v
         WHERE jsonb_typeof(v) = 'string' AND length(v #>> '{}') <= 200)
$$;

CREATE TABLE "audit_search" (
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    -- custody_audit_search_text (migration 20261129050000) of the event: lower-cased searchable fields.
    "text" TEXT NOT NULL,
    -- custody_audit_search_refs of the event.
    "refs" TEXT[] NOT NULL,
    CONSTRAINT "audit_search_pkey" PRIMARY KEY ("chain", "seq")
);

CREATE TABLE "audit_search_watermarks" (
    "chain" TEXT NOT NULL,
    "indexed_seq" BIGINT NOT NULL DEFAULT 0,
    -- occurred_at of the newest event indexed: the console's "search covers events up to …".
    "indexed_through" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "audit_search_watermarks_pkey" PRIMARY KEY ("chain")
);

-- The trail as it is, indexed once here (the indexes are built after the rows: faster than
-- maintaining them row by row).
INSERT INTO "audit_search" ("chain", "seq", "occurred_at", "text", "refs")
SELECT "chain", "seq", "occurred_at",
       "custody_audit_search_text"("actor_label", "action", "target_id", "request_id", "source_ip", "details"),
       "custody_audit_search_refs"("actor_label", "request_id", "details")
  FROM "audit_events";
INSERT INTO "audit_search_watermarks" ("chain", "indexed_seq", "indexed_through")
SELECT "chain", max("seq"), max("occurred_at") FROM "audit_events" GROUP BY "chain";

-- Keyset order of the search's pages, as on audit_events.
CREATE INDEX "audit_search_chain_occurred_at_seq_idx" ON "audit_search"("chain", "occurred_at" DESC, "seq" DESC);
-- Written by the job, never on the request path. New entries go to the GIN pending list (a
-- bulk merge costs far less per entry than inserting each into the tree) and the job merges
-- the list after each pass (gin_clean_pending_list), so a search scans at most about a pass's
-- worth of pending entries; the limit is high so that no insert pays for the merge itself.
CREATE INDEX "audit_search_text_idx" ON "audit_search" USING GIN ("text" gin_trgm_ops) WITH (fastupdate = on, gin_pending_list_limit = 16384);
CREATE INDEX "audit_search_refs_idx" ON "audit_search" USING GIN ("refs") WITH (fastupdate = on, gin_pending_list_limit = 16384);

DROP INDEX "audit_events_search_idx";
DROP INDEX "audit_events_details_idx";
DROP INDEX "audit_events_chain_data_label_idx";
DROP INDEX "audit_events_chain_actor_label_occurred_at_seq_idx";
DROP INDEX "audit_events_request_id_idx";
