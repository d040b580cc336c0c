// `npm run seed:audit -- --events 10000000 [--tenant <slug>]`: appends that many realistic,
// correctly hash-chained key-service events to one tenant's trail (default: a tenant named
// "bulk", created if missing), for measuring the audit views on a large trail. Multi-row
// inserts of 5,000 events per transaction, each continuing the chain from its locked head, so
// the trail stays verifiable (`npm run audit:verify`) and other writers may append meanwhile.
// Timestamps spread over the last 90 days (or from the trail's newest event, if later), in chain
// order, as live appends keep them. Uses DATABASE_URL (required: this is for test and benchmark
// databases).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { type ChainedFields, GENESIS_HASH, hashEvent } from "@/lib/audit/trail/chain";
import { getConfig } from "@/lib/config";

const BATCH = 5_000;
const LABELS = ["invoices", "payroll", "patient-notes", "contracts", "messages", "attachments", "exports", "profiles"];
const ACTIONS = [
  ["key.unwrap", 60],
  ["key.wrap", 25],
  ["key.batch_unwrap", 8],
  ["key.batch_wrap", 4],
  ["key.rekey", 3],
] as const;
const ACTORS = Array.from({ length: 6 }, (_, i) => ({ id: randomUUID(), label: ["billing-app", "search-indexer", "reports", "mobile-api", "exporter", "support-tools"][i]! }));

function fail(message: string): never {
  console.error(`seed:audit: ${message}`);
  process.exit(2);
}

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

function actionFor(n: number): string {
  let r = n % 100;
  for (const [action, weight] of ACTIONS) {
    if (r < weight) return action;
    r -= weight;
  }
  return "key.unwrap";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const total = Number(value("events"));
  if (!Number.isInteger(total) || total < 1 || total > 100_000_000) fail("--events must be a whole number from 1 to 100000000");
  const slug = value("tenant") ?? "bulk";
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) fail("--tenant must be a tenant slug (lower-case letters, digits and -)");
  const url = getConfig().DATABASE_URL;
  if (!url) fail("set DATABASE_URL to the database to seed");

  const client = new pg.Client({ connectionString: url, options: "-c standard_conforming_strings=on" });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO tenants (id, slug, name) VALUES (gen_random_uuid(), $1, $2)
       ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id::text AS id`,
      [slug, `${slug} (seeded audit trail)`],
    );
    const tenantId = rows[0]!.id;
    // The tenant's own keys when it has some (so key filters find them), else two made-up ids.
    const keys = await client.query<{ id: string }>("SELECT id::text AS id FROM tenant_keys WHERE tenant_id = $1 ORDER BY created_at", [tenantId]);
    const keyIds = keys.rows.length > 0 ? keys.rows.map((k) => k.id) : [randomUUID(), randomUUID()];
    // Spread the events over the last 90 days, in time order after whatever the trail holds.
    const newest = await client.query<{ at: Date | null }>("SELECT max(occurred_at) AS at FROM audit_events WHERE chain = $1", [tenantId]);
    const startAt = Math.max(Date.now() - 90 * 24 * 3600 * 1000, (newest.rows[0]?.at?.getTime() ?? 0) + 1);
    const span = Math.max(Date.now() - startAt, 1);
    // The months' partitions of audit_events, so the back-dated events land in them, not in DEFAULT.
    await client.query("SELECT custody_audit_ensure_partitions($1::timestamptz, now())", [new Date(startAt)]);
    const started = Date.now();
    let written = 0;
    while (written < total) {
      const count = Math.min(BATCH, total - written);
      await client.query("BEGIN");
      const head = await client.query<{ seq: string; head_hash: string }>(
        `INSERT INTO audit_chains (chain, seq, head_hash) VALUES ($1, 0, $2)
         ON CONFLICT (chain) DO UPDATE SET updated_at = now() RETURNING seq::text AS seq, head_hash`,
        [tenantId, GENESIS_HASH],
      );
      let seq = BigInt(head.rows[0]!.seq);
      let prev = head.rows[0]!.head_hash;
      const events: Array<Record<string, unknown>> = [];
      for (let i = 0; i < count; i++) {
        const n = written + i;
        seq += 1n;
        const actor = pick(ACTORS, n * 7 + (n >> 4));
        const action = actionFor(n * 37 + (n >> 3));
        const denied = n % 97 === 0;
        const keyId = pick(keyIds, n >> 10);
        const details = action.startsWith("key.batch")
          ? { items: 100, dataLabels: [pick(LABELS, n)], objectIds: [], failedItems: [], reason: "nightly job", tenantKeyId: keyId }
          : {
              dataLabel: pick(LABELS, n * 13),
              objectId: `obj-${n % 1_000_003}`,
              reason: "render",
              onBehalfOf: `user-${n % 5_003}@customer.example`,
              tenantKeyId: keyId,
              ...(denied ? { code: "access_revoked" } : {}),
            };
        const fields: ChainedFields = {
          chain: tenantId,
          seq,
          occurredAt: new Date(startAt + Math.floor((n / total) * span)),
          tenantId,
          actorType: "service",
          actorId: actor.id,
          actorLabel: actor.label,
          action,
          targetType: "tenant_key",
          targetId: keyId,
          outcome: denied ? "denied" : "success",
          sourceIp: `10.0.${(n >> 8) % 256}.${n % 256}`,
          userAgent: "custody-sdk/0.1",
          requestId: `seed-${n}`,
          details,
        };
        const hash = hashEvent(prev, fields);
        events.push({ ...fields, seq: seq.toString(), occurredAt: fields.occurredAt.toISOString(), prevHash: prev, hash });
        prev = hash;
      }
      const json = JSON.stringify(events).replace(/'/g, "''");
      await client.query(
        `INSERT INTO audit_events (chain, seq, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id,
                                   outcome, source_ip, user_agent, request_id, details, prev_hash, hash)
         SELECT e.chain, e.seq, e."occurredAt", e."tenantId", e."actorType"::actor_type, e."actorId", e."actorLabel", e.action,
                e."targetType", e."targetId", e.outcome::audit_outcome, e."sourceIp", e."userAgent", e."requestId", e.details,
                e."prevHash", e.hash
           FROM json_to_recordset('${json}'::json) AS e(chain text, seq int8, "occurredAt" timestamptz, "tenantId" uuid, "actorType" text,
                "actorId" text, "actorLabel" text, action text, "targetType" text, "targetId" text, outcome text, "sourceIp" text,
                "userAgent" text, "requestId" text, details jsonb, "prevHash" text, hash text)`,
      );
      await client.query("UPDATE audit_chains SET seq = $2, head_hash = $3, updated_at = now() WHERE chain = $1", [tenantId, seq.toString(), prev]);
      await client.query("COMMIT");
      written += count;
      if (written % 100_000 === 0 || written === total) {
        const rate = Math.round(written / ((Date.now() - started) / 1000));
        console.log(`seed:audit: ${written.toLocaleString("en")} / ${total.toLocaleString("en")} events (${rate.toLocaleString("en")}/s)`);
      }
    }
    console.log(`seed:audit: tenant ${slug} (${tenantId}) has ${total.toLocaleString("en")} new events, chained and verifiable`);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error)));
