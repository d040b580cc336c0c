import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/audit";
import { startAuditExport } from "@/lib/audit/export/export";
import { listCheckpoints, signDueCheckpoints } from "@/lib/audit/integrity/checkpoints";
import { parseSigningKeyPem } from "@/lib/audit/integrity/signing-key";
import { type IntegritySource, verifyChainIntegrity } from "@/lib/audit/integrity/verify-chain";
import { listTenantEvents, tenantHeadSeq } from "@/lib/audit/query/list-events";
import type { Caller } from "@/lib/authz";
import { forgetConfig, getConfig, installConfig } from "@/lib/config";
import { disconnectDb, getDb, getReadDb } from "@/lib/db";
import { applyMigrations } from "@/lib/db/migrate";
import { replicaCaughtUp } from "@/lib/db/read-replica";
import { appendEvents, newSigningKeyPem } from "../helpers/audit-trail";
import { PrivatePostgres } from "../helpers/private-postgres";
import { waitUntil } from "../helpers/wait";

// DATABASE_READ_URL against a real streaming replica (pg_basebackup -R, a second postmaster):
// the audit pages and exports read the replica once it has replayed what the primary had
// committed, so a change shows on the next page; with replay paused they read the replica
// still, which shows they are routed there; writes and standing stay on the primary.

const request = { sourceIp: null, userAgent: null, requestId: null };
const signingKey = parseSigningKeyPem(newSigningKeyPem());
let primary: PrivatePostgres;
let replica: PrivatePostgres;
let replicaAdmin: pg.Client;
let tenantId: string;
let member: Caller;

async function append(label: string) {
  return recordAuditEvent({ tenantId, actor: { type: "system", id: null, label }, action: "key.verified", outcome: "success", request, details: {} });
}

beforeAll(async () => {
  primary = await PrivatePostgres.start();
  const url = await primary.createDatabase("custody");
  await applyMigrations(url);
  replica = await primary.replica();
  const readUrl = replica.url("custody");
  installConfig({ ...getConfig(), DATABASE_URL: url, DATABASE_READ_URL: readUrl });
  replicaAdmin = new pg.Client({ connectionString: readUrl });
  await replicaAdmin.connect();

  const tenant = await getDb().tenant.create({ data: { slug: "replicated", name: "Replicated" } });
  tenantId = tenant.id;
  const user = await getDb().user.create({ data: { email: "auditor@replicated.example" } });
  await getDb().membership.create({ data: { tenantId, userId: user.id, role: "AUDITOR", acceptedAt: new Date() } });
  member = { userId: user.id, request };
}, 180_000);

afterAll(async () => {
  await replicaAdmin?.query("SELECT pg_wal_replay_resume()").catch(() => {});
  await replicaAdmin?.end();
  await disconnectDb();
  forgetConfig();
  await replica?.close();
  await primary?.close();
});

describe("a read replica (DATABASE_READ_URL)", () => {
  it("is a separate, read-only server", async () => {
    expect(getReadDb()).not.toBe(getDb());
    const [row] = await getReadDb().$queryRaw<Array<{ recovery: boolean }>>`SELECT pg_is_in_recovery() AS recovery`;
    expect(row!.recovery).toBe(true);
    await expect(getReadDb().tenant.create({ data: { slug: "nope", name: "Nope" } })).rejects.toThrow();
  });

  it("serves a page that shows what was committed a moment before", async () => {
    for (let i = 0; i < 3; i++) {
      const event = await append(`fresh-${i}`);
      const page = await listTenantEvents(member, tenantId);
      expect(page.events[0]?.seq).toBe(event.seq);
    }
  });

  it("is where pages, the live view's starting head and exports are read: with replay paused they show the replica's state", async () => {
    const before = await append("before-pause");
    await waitUntil(async () => (await listTenantEvents(member, tenantId)).events[0]?.seq === before.seq, "the replica to have the event");
    await replicaAdmin.query("SELECT pg_wal_replay_pause()");
    await waitUntil(async () => (await replicaAdmin.query("SELECT pg_get_wal_replay_pause_state() AS s")).rows[0].s === "paused", "replay paused");
    try {
      const hidden = await append("while-paused");
      // The primary has it; the replica does not, and the console reads the replica (after waiting its bounded while).
      expect(await replicaCaughtUp(200)).toBe(false);
      expect((await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).seq).toBe(hidden.seq);
      expect((await listTenantEvents(member, tenantId)).events[0]?.seq).toBe(before.seq);
      expect(await tenantHeadSeq(member, tenantId)).toBe(before.seq);
    } finally {
      await replicaAdmin.query("SELECT pg_wal_replay_resume()");
    }
    const head = (await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).seq;
    await waitUntil(async () => (await tenantHeadSeq(member, tenantId)) === head, "the replica to catch up");
  });

  it("exports from the replica, including the export's own event", async () => {
    const user = await getDb().user.findUniqueOrThrow({ where: { id: member.userId } });
    expect(user.email).toBe("auditor@replicated.example");
    const started = await startAuditExport(member, "replicated", new URLSearchParams({ format: "jsonl" }));
    const text = await new Response(started.body).text();
    const lines = text.trim().split("\n").map((line) => JSON.parse(line) as { action: string });
    expect(lines[0]!.action).toBe("audit.exported");
    expect(lines.length).toBe(Number((await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).seq));
  });

  it("runs integrity checks on the replica, with the primary's result, and falls back to the primary when the replica is behind", async () => {
    await appendEvents(tenantId, 40);
    await signDueCheckpoints(signingKey);
    await appendEvents(tenantId, 5);
    // The replica's own sessions: the check's connection is seen there while it runs.
    const onReplica: number[] = [];
    const sources: IntegritySource[] = [];
    const viaReplica = await verifyChainIntegrity(tenantId, {
      batchSize: 10,
      onSource: (source) => sources.push(source),
      onProgress: async () => {
        const { rows } = await replicaAdmin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'custody-audit-verify'");
        onReplica.push(rows[0].n as number);
      },
    });
    expect(sources).toEqual(["replica"]);
    expect(onReplica.length).toBeGreaterThan(2);
    expect(Math.min(...onReplica)).toBe(1);
    // The same check with no replica configured reads the primary and finds the same.
    const config = getConfig();
    installConfig({ ...config, DATABASE_READ_URL: undefined });
    let viaPrimary;
    try {
      viaPrimary = await verifyChainIntegrity(tenantId, { batchSize: 10 });
    } finally {
      installConfig(config);
    }
    expect(viaReplica.intact).toBe(true);
    expect(viaReplica.checkpoints.checked).toBeGreaterThan(0);
    expect(viaReplica).toEqual(viaPrimary);

    // Replay paused: the replica lacks the newest events, so the check reads the primary and verifies them too.
    await replicaAdmin.query("SELECT pg_wal_replay_pause()");
    await waitUntil(async () => (await replicaAdmin.query("SELECT pg_get_wal_replay_pause_state() AS s")).rows[0].s === "paused", "replay paused");
    try {
      const newest = await append("while-paused-for-verify");
      const fellBack: IntegritySource[] = [];
      const report = await verifyChainIntegrity(tenantId, { onSource: (source) => fellBack.push(source) });
      expect(fellBack).toEqual(["primary"]);
      expect(report.intact).toBe(true);
      expect(report.headSeq).toBe(newest.seq);
    } finally {
      await replicaAdmin.query("SELECT pg_wal_replay_resume()");
    }
  });

  it("lists a checkpoint signed a moment before, read from the replica", async () => {
    await append("to-sign");
    await signDueCheckpoints(signingKey);
    const head = (await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).seq;
    expect((await listCheckpoints(member, tenantId))[0]?.seq).toBe(head);
  });
});
