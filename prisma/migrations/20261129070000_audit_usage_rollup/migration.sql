-- Usage rollups (lib/audit/usage): counts derived from audit_events, so the usage pages never
-- aggregate the raw trail however long it is. Each chain is rolled up in `seq` order from a
-- watermark: `rolled_seq` = every event of the chain with seq <= it has been counted, once.
-- The roll-up locks the watermark row and upserts the counts in the same transaction, so two
-- runners (two app instances) never count an event twice; the watermark only moves forward,
-- so pruning a chain's oldest events changes nothing already counted.
--
-- Times are bucketed in UTC. `events` counts audit events (one per call); `items` counts what
-- a call did: a batch call's number of items, 1 for anything else.

CREATE TABLE "audit_usage_watermarks" (
    "chain" TEXT NOT NULL,
    "rolled_seq" BIGINT NOT NULL DEFAULT 0,
    -- occurred_at of the newest event counted, shown as "counted through".
    "rolled_through" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "audit_usage_watermarks_pkey" PRIMARY KEY ("chain")
);

CREATE TABLE "audit_usage_hourly" (
    "chain" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" "audit_outcome" NOT NULL,
    "events" BIGINT NOT NULL,
    "items" BIGINT NOT NULL,
    CONSTRAINT "audit_usage_hourly_pkey" PRIMARY KEY ("chain", "hour", "action", "outcome")
);
-- The vendor's cross-tenant view reads the last hours across all chains.
CREATE INDEX "audit_usage_hourly_hour_idx" ON "audit_usage_hourly"("hour");

CREATE TABLE "audit_usage_daily" (
    "chain" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" "audit_outcome" NOT NULL,
    "events" BIGINT NOT NULL,
    "items" BIGINT NOT NULL,
    CONSTRAINT "audit_usage_daily_pkey" PRIMARY KEY ("chain", "day", "action", "outcome")
);
-- The vendor's cross-tenant view reads a window of days across all chains.
CREATE INDEX "audit_usage_daily_day_idx" ON "audit_usage_daily"("day");

-- Per data label: `events` counts each call once per label it used; `items` counts the items
-- of calls that used that label only (a batch mixing labels cannot be split by label).
CREATE TABLE "audit_usage_labels_daily" (
    "chain" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "data_label" TEXT NOT NULL,
    "events" BIGINT NOT NULL,
    "items" BIGINT NOT NULL,
    "denied" BIGINT NOT NULL,
    CONSTRAINT "audit_usage_labels_daily_pkey" PRIMARY KEY ("chain", "day", "data_label")
);

-- Per actor as recorded (type, id, label); an unknown person's id is ''.
CREATE TABLE "audit_usage_actors_daily" (
    "chain" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "actor_type" "actor_type" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_label" TEXT NOT NULL,
    "events" BIGINT NOT NULL,
    "items" BIGINT NOT NULL,
    "denied" BIGINT NOT NULL,
    CONSTRAINT "audit_usage_actors_daily_pkey" PRIMARY KEY ("chain", "day", "actor_type", "actor_id", "actor_label")
);

-- Successful key-service calls per tenant key (details.tenantKeyId / tenantKeyIds /
-- fromTenantKeyId): a call counts once for each key it used.
CREATE TABLE "audit_usage_keys" (
    "chain" TEXT NOT NULL,
    "tenant_key_id" TEXT NOT NULL,
    "events" BIGINT NOT NULL,
    "last_used_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "audit_usage_keys_pkey" PRIMARY KEY ("chain", "tenant_key_id")
);
