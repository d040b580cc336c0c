-- The vendor's fleet table reads each tenant's last-24-hours counts from here, one row per
-- tenant chain, instead of summing a day of hourly rollups on every page view. A background job
-- recomputes it every minute from audit_usage_hourly and audit_usage_keys
-- (lib/fleet/refresh-fleet-usage.ts); "as_of" says when.
CREATE TABLE "fleet_usage" (
    "chain" TEXT NOT NULL,
    "operations" BIGINT NOT NULL,
    "refusals" BIGINT NOT NULL,
    "lease_failures" BIGINT NOT NULL,
    "last_used_at" TIMESTAMPTZ(3),
    "as_of" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "fleet_usage_pkey" PRIMARY KEY ("chain")
);
