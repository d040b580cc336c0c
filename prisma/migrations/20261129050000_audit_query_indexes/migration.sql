-- Indexes for the audit trail's filters (lib/audit/query.ts). Every listing is keyset-paged
-- newest first on (occurred_at, seq) inside one chain, so each filter has an index that
-- starts with the chain, then the filtered column, then that order: the first page of any
-- single filter is an index range read, however long the trail.
CREATE INDEX "audit_events_chain_occurred_at_seq_idx" ON "audit_events"("chain", "occurred_at" DESC, "seq" DESC);
CREATE INDEX "audit_events_chain_action_occurred_at_seq_idx" ON "audit_events"("chain", "action", "occurred_at" DESC, "seq" DESC);
CREATE INDEX "audit_events_chain_outcome_occurred_at_seq_idx" ON "audit_events"("chain", "outcome", "occurred_at" DESC, "seq" DESC);
CREATE INDEX "audit_events_chain_actor_label_occurred_at_seq_idx" ON "audit_events"("chain", "actor_label", "occurred_at" DESC, "seq" DESC);
CREATE INDEX "audit_events_chain_target_id_occurred_at_seq_idx" ON "audit_events"("chain", "target_id", "occurred_at" DESC, "seq" DESC);
CREATE INDEX "audit_events_request_id_idx" ON "audit_events"("request_id");

-- The key service's data label (single-item calls), in the same order.
CREATE INDEX "audit_events_chain_data_label_idx"
    ON "audit_events"("chain", ("details" ->> 'dataLabel'), "occurred_at" DESC, "seq" DESC);

-- Containment in details: object ids (single and batch), batch data labels, on-behalf-of
-- actors and Custody's own request id when the caller sent theirs. Such values are rare, so
-- a bitmap read and a sort of the few matches is fast.
CREATE INDEX "audit_events_details_idx" ON "audit_events" USING GIN ("details" jsonb_path_ops);

-- Free-text search over the fields a person searches by, as trigrams, so `ILIKE '%text%'` is
-- an index read. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension.
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

CREATE FUNCTION "custody_audit_search_text"(
    "actor_label" text, "action" text, "target_id" text, "request_id" text, "source_ip" text, "details" jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(
        coalesce(actor_label, '') || ' ' || action || ' ' || coalesce(target_id, '') || ' ' ||
        coalesce(request_id, '') || ' ' || coalesce(source_ip, '') || ' ' ||
        coalesce(details ->> 'onBehalfOf', '') || ' ' || coalesce(details ->> 'dataLabel', '') || ' ' ||
        coalesce(details ->> 'dataLabels', '') || ' ' || coalesce(details ->> 'objectId', '') || ' ' ||
        coalesce(details ->> 'objectIds', '') || ' ' || coalesce(details ->> 'reason', '') || ' ' ||
        coalesce(details ->> 'custodyRequestId', '') || ' ' || coalesce(details ->> 'code', ''))
$$;

CREATE INDEX "audit_events_search_idx" ON "audit_events" USING GIN (
    "custody_audit_search_text"("actor_label", "action", "target_id", "request_id", "source_ip", "details") gin_trgm_ops);
