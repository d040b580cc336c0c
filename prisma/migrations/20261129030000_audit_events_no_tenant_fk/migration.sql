-- Audit events no longer carry a foreign key to tenants. Tenants are never deleted, and an
-- event's chain already names its tenant; the key would cost a referential check and a
-- KEY SHARE lock on the tenant row for every event the key service commits (a third of the
-- insert time measured), and those row locks are what a console change to the tenant must
-- not wait on while an appender holds the chain head.
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_tenant_id_fkey";
