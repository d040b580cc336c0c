-- Log sinks (issue 6, lib/sinks): a tenant streams its audit trail to its own SIEM.
--
-- The outbox is written by a reader that can never skip an event, like the usage rollups
-- (20261129070000): each sink has a watermark `enqueued_seq` in its tenant's chain. The
-- enqueuer locks the sink row, reads the chain head (which commits with its events, and seq is
-- gap-free per chain, so everything at or below the head is committed), turns the events in
-- (enqueued_seq, head] that pass the sink's filter into deliveries and advances the watermark,
-- in one transaction. A new sink's watermark is the chain head at its creation: it receives
-- the events from then on.
--
-- A delivery is one batch: the seqs of up to N consecutive matching events of the chain. The
-- events themselves are read from the (append-only, hash-chained) trail when sent, so the
-- outbox holds numbers, not copies. A delivered batch is deleted at once (the table stays the
-- size of the backlog); sink_delivery_stats keeps per-minute counts for the delivery rate.

CREATE TYPE "log_sink_kind" AS ENUM ('webhook', 'syslog', 'splunk_hec');
-- No 'delivered': a delivered batch's row is deleted in the transaction that records it.
CREATE TYPE "sink_delivery_status" AS ENUM ('pending', 'delivering', 'failed');

CREATE TABLE "log_sinks" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "log_sink_kind" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    -- Non-secret settings, by kind (lib/validation/sinks.ts): url; host, port, transport, ...
    "settings" JSONB NOT NULL,
    -- The webhook's HMAC secret or the HEC token, AES-256-GCM (lib/sinks/secrets.ts); null for syslog.
    "secret_ciphertext" BYTEA,
    -- Only events with one of these actions / outcomes are sent; empty: all.
    "filter_actions" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "filter_outcomes" "audit_outcome"[] NOT NULL DEFAULT ARRAY[]::"audit_outcome"[],
    -- Every event of the tenant's chain with seq <= it has been considered (enqueued or filtered out).
    "enqueued_seq" BIGINT NOT NULL,
    "created_by_id" UUID,
    "updated_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_success_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "delivered_events" BIGINT NOT NULL DEFAULT 0,
    -- Events retention pruned before they could be enqueued: they can never be sent.
    "skipped_events" BIGINT NOT NULL DEFAULT 0,
    "skipped_at" TIMESTAMPTZ(3),
    CONSTRAINT "log_sinks_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "log_sinks_secret_check" CHECK (("kind" = 'syslog') = ("secret_ciphertext" IS NULL))
);

CREATE UNIQUE INDEX "log_sinks_tenant_id_name_key" ON "log_sinks"("tenant_id", "name");

ALTER TABLE "log_sinks" ADD CONSTRAINT "log_sinks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "log_sinks" ADD CONSTRAINT "log_sinks_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "log_sinks" ADD CONSTRAINT "log_sinks_updated_by_id_fkey" FOREIGN KEY ("updated_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "sink_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "sink_id" UUID NOT NULL,
    -- The batch: seqs of the sink's chain, ascending; first/last order batches within a sink.
    "first_seq" BIGINT NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "seqs" BIGINT[] NOT NULL,
    "status" "sink_delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_attempt_at" TIMESTAMPTZ(3),
    "last_attempt_at" TIMESTAMPTZ(3),
    -- While delivering: the claim's token and how long it holds; an expired lease is claimed again.
    "claim_token" UUID,
    "lease_until" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "failed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sink_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "sink_deliveries_batch_check" CHECK (cardinality("seqs") > 0 AND "first_seq" <= "last_seq")
);

-- A batch is enqueued once: a second enqueuer of the same events would fail here.
CREATE UNIQUE INDEX "sink_deliveries_sink_id_first_seq_key" ON "sink_deliveries"("sink_id", "first_seq");
-- The worker looks for due batches across sinks.
CREATE INDEX "sink_deliveries_status_next_attempt_at_idx" ON "sink_deliveries"("status", "next_attempt_at");

ALTER TABLE "sink_deliveries" ADD CONSTRAINT "sink_deliveries_sink_id_fkey" FOREIGN KEY ("sink_id") REFERENCES "log_sinks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Delivered events per sink and minute, for the delivery rate; rows older than a day are deleted.
CREATE TABLE "sink_delivery_stats" (
    "sink_id" UUID NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "events" INTEGER NOT NULL,
    "batches" INTEGER NOT NULL,
    CONSTRAINT "sink_delivery_stats_pkey" PRIMARY KEY ("sink_id", "minute")
);

ALTER TABLE "sink_delivery_stats" ADD CONSTRAINT "sink_delivery_stats_sink_id_fkey" FOREIGN KEY ("sink_id") REFERENCES "log_sinks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
