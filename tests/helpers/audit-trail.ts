import { generateKeyPairSync } from "node:crypto";
import pg from "pg";
import { appendAuditEvent } from "@/lib/audit";
import { hashEvent } from "@/lib/audit/trail/chain";
import { chainedFieldsOf } from "@/lib/audit/trail/stored";
import { getDb } from "@/lib/db";

// Helpers for tests of the trail's integrity: build a trail, and tamper with it the way
// someone with the database's superuser could (the append-only triggers switched off).

/** A fresh Ed25519 key as AUDIT_SIGNING_KEY would hold it. */
export function newSigningKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export async function newTenantWithTrail(slug: string, events: number): Promise<string> {
  const tenant = await getDb().tenant.create({ data: { slug, name: slug } });
  await appendEvents(tenant.id, events);
  return tenant.id;
}

export async function appendEvents(tenantId: string, events: number, from = 0): Promise<void> {
  // Hundreds of appends in one transaction: Prisma's 5 s default limit is a race a busy
  // machine loses, so this one gets minutes.
  await getDb().$transaction(
    async (tx) => {
      for (let i = from; i < from + events; i++) {
        await appendAuditEvent(tx, {
          tenantId,
          actor: { type: "service", id: "cred-1", label: "billing-app" },
          action: "key.unwrap",
          outcome: "success",
          request: { sourceIp: "10.0.0.1", userAgent: "test", requestId: `r-${i}` },
          details: { dataLabel: "invoices", objectId: `inv-${i}` },
        });
      }
    },
    { timeout: 300_000, maxWait: 60_000 },
  );
}

/** Runs SQL with the append-only triggers bypassed, in one transaction. */
export async function tamper(url: string, sql: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query(sql, values);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}

/**
 * Rewrites history consistently: changes one event's actor label, then recomputes that event's
 * hash and every later event's prev_hash and hash, and the chain head. The plain chain check
 * cannot tell; only a signed checkpoint can.
 */
export async function rewriteHistory(url: string, chain: string, seq: bigint, actorLabel: string): Promise<void> {
  const events = await getDb().auditEvent.findMany({ where: { chain, seq: { gte: seq } }, orderBy: { seq: "asc" } });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    let prevHash = events[0]!.prevHash;
    for (const event of events) {
      const fields = { ...chainedFieldsOf(event), actorLabel: event.seq === seq ? actorLabel : event.actorLabel, prevHash };
      const hash = hashEvent(prevHash, fields);
      await client.query("UPDATE audit_events SET actor_label = $1, prev_hash = $2, hash = $3 WHERE id = $4", [fields.actorLabel, prevHash, hash, event.id]);
      prevHash = hash;
    }
    await client.query("UPDATE audit_chains SET head_hash = $1 WHERE chain = $2", [prevHash, chain]);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}
