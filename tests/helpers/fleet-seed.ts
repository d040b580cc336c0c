import type pg from "pg";

// A fleet of many tenants in a few statements, for the fleet view's test and bench: keys in
// every state, key-service usage in the last day (from the usage rollups the fleet reads),
// lease failures and failing sinks on a few. Tenant i (from 1) is deterministic:
//   i % 50 = 0 → revoked by the tenant;  i % 50 = 1 → verification failing;
//   i % 50 = 2 → key pending verification;  i % 10 = 3 → no key yet;  otherwise active.
//   i % 25 = 4 → a failing log sink;  i % 40 = 5 → lease failures in the last hour;
//   i % 20 = 7 → its (active) key registered 400 days ago: rotation overdue by 35 days under
//   the default 365-day policy (the others' keys are 30 days old).

export type FleetSeed = { tenants: number; prefix: string };

export async function seedFleet(client: pg.Client | pg.PoolClient, { tenants, prefix }: FleetSeed, now = new Date()): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(
      `INSERT INTO tenants (id, slug, name, created_at)
       SELECT gen_random_uuid(), $1 || lpad(i::text, 5, '0'), initcap($1) || ' ' || lpad(i::text, 5, '0'), $3::timestamptz - (i || ' minutes')::interval
         FROM generate_series(1, $2::int) i`,
      [prefix, tenants, now],
    );
    const seeded = `SELECT id, substring(slug from length($1) + 1)::int AS i FROM tenants WHERE slug LIKE $1 || '%'`;
    await client.query(
      `INSERT INTO kms_keys (id, tenant_id, provider, key_ref, key_details, status, created_at, last_verified_at, last_attempt_at, last_attempt_ok, last_error_kind)
       SELECT gen_random_uuid(), t.id, 'aws', 'arn:aws:kms:eu-west-1:1111' || lpad(t.i::text, 8, '0') || ':key/' || gen_random_uuid(),
              jsonb_build_object('partition', 'aws', 'region', 'eu-west-1', 'accountId', '1111' || lpad(t.i::text, 8, '0'), 'multiRegion', false, 'grantIds', '[]'::jsonb),
              CASE WHEN t.i % 50 = 2 THEN 'pending_verification'::kms_key_status ELSE 'active'::kms_key_status END,
              $2::timestamptz - CASE WHEN t.i % 20 = 7 THEN interval '400 days' ELSE interval '30 days' END,
              CASE WHEN t.i % 50 = 2 THEN NULL ELSE $2::timestamptz - (t.i % 90 || ' hours')::interval END,
              $2::timestamptz - interval '1 hour',
              CASE WHEN t.i % 50 = 1 THEN false WHEN t.i % 50 = 2 THEN NULL ELSE true END,
              CASE WHEN t.i % 50 = 1 THEN 'access_denied_customer' END
         FROM (${seeded}) t WHERE t.i % 10 <> 3`,
      [prefix, now],
    );
    await client.query(
      `UPDATE tenants t SET primary_kms_key_id = k.id,
              access_revoked_at = CASE WHEN s.i % 50 = 0 THEN $2::timestamptz - interval '2 hours' END
         FROM (${seeded}) s, kms_keys k
        WHERE t.id = s.id AND k.tenant_id = t.id AND k.status = 'active'`,
      [prefix, now],
    );
    // Key-service calls: each active tenant unwraps every hour of the last day, some refused.
    await client.query(
      `INSERT INTO audit_usage_hourly (chain, hour, action, outcome, events, items)
       SELECT t.id::text, date_trunc('hour', $2::timestamptz) - (h || ' hours')::interval, a.action, a.outcome::audit_outcome,
              a.events + t.i % 7, a.events + t.i % 7
         FROM (${seeded}) t, generate_series(0, 23) h,
              (VALUES ('key.unwrap', 'success', 40), ('key.wrap', 'success', 10), ('key.unwrap', 'denied', 1)) a(action, outcome, events)
        WHERE t.i % 10 <> 3 AND t.i % 50 NOT IN (1, 2)`,
      [prefix, now],
    );
    await client.query(
      `INSERT INTO audit_usage_hourly (chain, hour, action, outcome, events, items)
       SELECT t.id::text, date_trunc('hour', $2::timestamptz), 'key.lease_failed', 'failure', 3, 3
         FROM (${seeded}) t WHERE t.i % 40 = 5`,
      [prefix, now],
    );
    await client.query(
      `INSERT INTO audit_usage_keys (chain, tenant_key_id, events, last_used_at)
       SELECT t.id::text, gen_random_uuid()::text, 1000, $2::timestamptz - (t.i % 600 || ' minutes')::interval
         FROM (${seeded}) t WHERE t.i % 10 <> 3 AND t.i % 50 NOT IN (1, 2)`,
      [prefix, now],
    );
    await client.query(
      `INSERT INTO log_sinks (id, tenant_id, name, kind, settings, enqueued_seq, consecutive_failures, last_error, last_error_at)
       SELECT gen_random_uuid(), t.id, 'SIEM', 'syslog', '{"host":"siem.example","port":6514,"transport":"tls"}', 0,
              CASE WHEN t.i % 25 = 4 THEN 5 ELSE 0 END,
              CASE WHEN t.i % 25 = 4 THEN 'The receiver answered 503.' END,
              CASE WHEN t.i % 25 = 4 THEN $2::timestamptz END
         FROM (${seeded}) t WHERE t.i % 5 = 4`,
      [prefix, now],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
  await client.query("ANALYZE tenants; ANALYZE kms_keys; ANALYZE audit_usage_hourly; ANALYZE audit_usage_keys; ANALYZE log_sinks");
}
