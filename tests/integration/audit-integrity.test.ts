import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "@/lib/audit/trail/chain";
import { pruneChain } from "@/lib/audit/trail/prune";
import { checkpointDocumentFor, listCheckpoints, signCheckpointNow, signDueCheckpoints } from "@/lib/audit/integrity/checkpoints";
import { forgetDeploymentSigningKey, parseSigningKeyPem } from "@/lib/audit/integrity/signing-key";
import { forgetDeploymentTrustedPublicKeys } from "@/lib/audit/integrity/trusted-keys";
import { chainedFieldsOf } from "@/lib/audit/trail/stored";
import { type IntegrityProgress, verifyChainIntegrity } from "@/lib/audit/integrity/verify-chain";
import { type IntegrityLine, integrityStream } from "@/lib/audit/integrity/integrity-stream";
import { verifyTenantTrail } from "@/lib/audit/integrity/verify-tenant-trail";
import { disconnectDb, getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Caller } from "@/lib/authz";
import { appendEvents, newSigningKeyPem, newTenantWithTrail, rewriteHistory, tamper } from "../helpers/audit-trail";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { refusal } from "../helpers/refusal";
import { runScript } from "../helpers/run-script";

// The integrity check with signed checkpoints: what the plain hash chain cannot see (history
// rewritten consistently, the newest events removed with the head wound back, a forged
// checkpoint) is caught and named; the checkpoints themselves verify with openssl alone.

const SIGNING_KEY = newSigningKeyPem();
const key = parseSigningKeyPem(SIGNING_KEY);
let database: TestDatabase;
const request = { sourceIp: "203.0.113.9", userAgent: "vitest", requestId: "req-integrity" };

async function member(tenantId: string, email: string, role: "ADMIN" | "AUDITOR" | null): Promise<Caller> {
  const user = await getDb().user.create({ data: { email } });
  if (role) await getDb().membership.create({ data: { tenantId, userId: user.id, role } });
  return { userId: user.id, request };
}

const verify = (chain: string) => verifyChainIntegrity(chain, { trustedKey: key });

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.AUDIT_SIGNING_KEY = SIGNING_KEY;
  forgetDeploymentSigningKey();
});

afterAll(async () => {
  await disconnectDb();
  await database?.drop();
});

describe("the streaming verifier", () => {
  it("reads in batches, reports progress up to the total, and ends with the count and head hash", async () => {
    const tenantId = await newTenantWithTrail("progress", 23);
    const progress: IntegrityProgress[] = [];
    const report = await verifyChainIntegrity(tenantId, { batchSize: 5, onProgress: (p) => void progress.push(p), trustedKey: key });
    const head = await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } });
    expect(report).toMatchObject({ intact: true, events: 23, headSeq: 23n, headHash: head.headHash, total: 23 });
    expect(progress.map((p) => p.checked)).toEqual([5, 10, 15, 20, 23]);
    expect(progress.every((p) => p.total === 23)).toBe(true);
  });

  it("counts only the events up to the head it started from while others are appended", async () => {
    const tenantId = await newTenantWithTrail("moving", 40);
    let appended = false;
    // Events committed while the check runs (after its first batch) are not part of it.
    const report = await verifyChainIntegrity(tenantId, {
      batchSize: 10,
      onProgress: async () => {
        if (appended) return;
        appended = true;
        await appendEvents(tenantId, 5, 40);
      },
    });
    expect(appended).toBe(true);
    expect(report).toMatchObject({ intact: true, events: 40, headSeq: 40n });
    expect(await verify(tenantId)).toMatchObject({ intact: true, events: 45 });
  });

  it("holds no snapshot while it reads a long trail, and retention waits for it", async () => {
    const tenantId = await newTenantWithTrail("no-snapshot", 30);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    let seen: { state: string; backend_xmin: string | null } | undefined;
    let prune: Awaited<ReturnType<typeof pruneChain>> | undefined;
    try {
      const report = await verifyChainIntegrity(tenantId, {
        batchSize: 10,
        onProgress: async ({ checked }) => {
          if (checked !== 10) return;
          // Between batches: no open transaction, so nothing holds back vacuum for the run.
          const { rows } = await admin.query<{ state: string; backend_xmin: string | null }>(
            "SELECT state, backend_xmin::text FROM pg_stat_activity WHERE application_name = 'custody-audit-verify'",
          );
          seen = rows[0];
          // Retention would delete events the check has yet to read: it is told the chain is busy.
          prune = await pruneChain(tenantId, { olderThan: new Date(Date.now() + 86_400_000) });
        },
      });
      expect(report).toMatchObject({ intact: true, events: 30 });
    } finally {
      await admin.end();
    }
    expect(seen).toEqual({ state: "idle", backend_xmin: null });
    expect(prune).toMatchObject({ busy: true, pruned: 0 });
    expect(await getDb().auditEvent.count({ where: { chain: tenantId } })).toBe(30);
  });

  it("catches a head record that disagrees with the last event", async () => {
    const tenantId = await newTenantWithTrail("head", 4);
    await tamper(database.url, "UPDATE audit_chains SET head_hash = $1 WHERE chain = $2", ["f".repeat(64), tenantId]);
    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, events: 3, break: { seq: 4n, kind: "edited" } });
    if (!report.intact) expect(report.break.message).toContain("recorded head of the trail");
  });
});

describe("signed checkpoints", () => {
  it("are signed once per head, whichever instance gets there first", async () => {
    const tenantId = await newTenantWithTrail("once", 3);
    const results = await Promise.all([signDueCheckpoints(), signDueCheckpoints(), signDueCheckpoints()]);
    expect(results.reduce((n, r) => n + r.signed, 0)).toBeGreaterThanOrEqual(1);
    expect(await getDb().auditCheckpoint.count({ where: { chain: tenantId } })).toBe(1);
    expect((await signDueCheckpoints()).signed).toBe(0);
    await appendEvents(tenantId, 1, 3);
    expect((await signDueCheckpoints()).signed).toBe(1);
    const checkpoints = await getDb().auditCheckpoint.findMany({ where: { chain: tenantId }, orderBy: { seq: "asc" } });
    expect(checkpoints.map((c) => c.seq)).toEqual([3n, 4n]);
    expect(checkpoints.every((c) => c.keyId === key.keyId)).toBe(true);
  });

  it("catch history rewritten consistently, which the plain chain check cannot see", async () => {
    const tenantId = await newTenantWithTrail("rewritten", 12);
    await signDueCheckpoints();
    const checkpoint = await getDb().auditCheckpoint.findFirstOrThrow({ where: { chain: tenantId } });
    await appendEvents(tenantId, 4, 12);
    await rewriteHistory(database.url, tenantId, 5n, "nobody@example.com");

    // The chain alone is consistent: every hash follows, and the head matches the last event.
    const events = await getDb().auditEvent.findMany({ where: { chain: tenantId }, orderBy: { seq: "asc" } });
    expect(verifyChain(events.map(chainedFieldsOf))).toBeNull();
    expect((await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } })).headHash).toBe(events.at(-1)!.hash);

    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, break: { seq: 12n, kind: "rewritten", checkpoint: { id: checkpoint.id, seq: 12n } } });
    if (!report.intact) {
      expect(report.break.message).toContain(`checkpoint ${checkpoint.id}`);
      expect(report.break.message).toContain("between #1 and #12");
    }

    const cli = await runScript("audit-verify.ts", ["--tenant", "rewritten"], { DATABASE_URL: database.url, AUDIT_SIGNING_KEY: SIGNING_KEY });
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`at #12 (rewritten): History was rewritten: checkpoint ${checkpoint.id}`);
  });

  it("catch the newest events deleted and the head wound back to match", async () => {
    const tenantId = await newTenantWithTrail("rewound", 8);
    await signDueCheckpoints();
    const head6 = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, seq: 6n } });
    await tamper(database.url, "DELETE FROM audit_events WHERE chain = $1 AND seq > 6; UPDATE audit_chains SET seq = 6, head_hash = $2 WHERE chain = $1".replace(/\$1/g, `'${tenantId}'`).replace("$2", `'${head6.hash}'`));
    expect(await verifyChainIntegrity(tenantId)).toMatchObject({ intact: false, break: { seq: 7n, kind: "deleted" } });
  });

  it("that were forged or altered are named", async () => {
    const tenantId = await newTenantWithTrail("forged", 5);
    await signDueCheckpoints();
    const checkpoint = await getDb().auditCheckpoint.findFirstOrThrow({ where: { chain: tenantId } });
    await tamper(database.url, "UPDATE audit_checkpoints SET head_hash = $1 WHERE id = $2", ["0".repeat(64), checkpoint.id]);
    const report = await verify(tenantId);
    expect(report).toMatchObject({ intact: false, break: { kind: "rewritten", checkpoint: { id: checkpoint.id } } });
    if (!report.intact) expect(report.break.message).toContain("does not carry a valid signature");
    // Signed by some other key: not this deployment's.
    const other = parseSigningKeyPem(newSigningKeyPem());
    expect(await verifyChainIntegrity(tenantId, { trustedKey: other })).toMatchObject({ intact: false, break: { kind: "rewritten" } });
  });

  it("are never signed over a head hash or chain id that could bend the line-based statement", async () => {
    const tenantId = await newTenantWithTrail("unsignable", 2);
    // A head stored in a form no real hash has (upper case), consistently in the event and the head.
    await tamper(
      database.url,
      `UPDATE audit_events SET hash = upper(hash) WHERE chain = '${tenantId}' AND seq = 2; UPDATE audit_chains SET head_hash = upper(head_hash) WHERE chain = '${tenantId}'`,
    );
    // A chain whose id would add a line to the statement.
    const evil = "vendor\nseq: 999";
    await tamper(
      database.url,
      `CREATE TEMP TABLE copy ON COMMIT DROP AS SELECT * FROM audit_events WHERE chain = '${tenantId}' AND seq = 1;
       UPDATE copy SET chain = E'vendor\\nseq: 999', id = nextval(pg_get_serial_sequence('audit_events', 'id'));
       INSERT INTO audit_events SELECT * FROM copy;
       INSERT INTO audit_chains (chain, seq, head_hash) SELECT chain, seq, hash FROM copy;`,
    );
    expect(await getDb().auditChain.count({ where: { chain: evil } })).toBe(1);

    await signDueCheckpoints();
    expect(await getDb().auditCheckpoint.count({ where: { chain: { in: [tenantId, evil] } } })).toBe(0);
    const admin = await member(tenantId, "unsignable-admin@example.com", "ADMIN");
    expect((await refusal(signCheckpointNow(admin, tenantId))).code).toBe("conflict");
    expect(await getDb().auditCheckpoint.count({ where: { chain: tenantId } })).toBe(0);
  });

  it("signed by a previous key still verify once its public key is trusted (AUDIT_TRUSTED_PUBLIC_KEYS), and only then", async () => {
    const retired = parseSigningKeyPem(newSigningKeyPem());
    const stranger = parseSigningKeyPem(newSigningKeyPem());
    const tenantId = await newTenantWithTrail("rotated", 3);
    await signDueCheckpoints(retired);
    await appendEvents(tenantId, 2, 3);
    await signDueCheckpoints();
    const old = await getDb().auditCheckpoint.findFirstOrThrow({ where: { chain: tenantId, seq: 3n } });
    expect(old.keyId).toBe(retired.keyId);

    const untrusted = await verify(tenantId);
    expect(untrusted).toMatchObject({ intact: false, break: { kind: "rewritten", checkpoint: { id: old.id } } });
    if (!untrusted.intact) expect(untrusted.break.message).toContain(`was signed by key ${retired.keyId}, not by this deployment's key ${key.keyId}`);

    expect(await verifyChainIntegrity(tenantId, { trustedKey: key, previousKeys: [retired] })).toMatchObject({ intact: true, checkpoints: { checked: 2, signaturesChecked: true } });
    const others = await verifyChainIntegrity(tenantId, { trustedKey: key, previousKeys: [stranger] });
    expect(others).toMatchObject({ intact: false, break: { kind: "rewritten" } });
    if (!others.intact) expect(others.break.message).toContain("nor by one of its trusted previous keys (AUDIT_TRUSTED_PUBLIC_KEYS)");

    // From the environment, as the console and `npm run audit:verify` read it.
    const env = { AUDIT_TRUSTED_PUBLIC_KEYS: stranger.publicKeyPem + retired.publicKeyPem };
    process.env.AUDIT_TRUSTED_PUBLIC_KEYS = env.AUDIT_TRUSTED_PUBLIC_KEYS;
    forgetDeploymentTrustedPublicKeys();
    try {
      expect(await verify(tenantId)).toMatchObject({ intact: true, events: 5 });
    } finally {
      delete process.env.AUDIT_TRUSTED_PUBLIC_KEYS;
      forgetDeploymentTrustedPublicKeys();
    }
    const cli = await runScript("audit-verify.ts", ["--tenant", "rotated"], { DATABASE_URL: database.url, AUDIT_SIGNING_KEY: SIGNING_KEY, ...env });
    expect(cli.code).toBe(0);
    // A retired key's checkpoint whose contents were altered still fails.
    await tamper(database.url, "UPDATE audit_checkpoints SET head_hash = $1 WHERE id = $2", ["0".repeat(64), old.id]);
    const altered = await verifyChainIntegrity(tenantId, { trustedKey: key, previousKeys: [retired] });
    expect(altered).toMatchObject({ intact: false, break: { kind: "rewritten", checkpoint: { id: old.id } } });
    if (!altered.intact) expect(altered.break.message).toContain("does not carry a valid signature");
  });

  it("cannot be changed or removed through the database's normal paths", async () => {
    const tenantId = await newTenantWithTrail("immutable", 2);
    await signDueCheckpoints();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await expect(client.query("UPDATE audit_checkpoints SET seq = 1 WHERE chain = $1", [tenantId])).rejects.toThrow(/append-only/);
      await expect(client.query("DELETE FROM audit_checkpoints WHERE chain = $1", [tenantId])).rejects.toThrow(/append-only/);
      await expect(client.query("TRUNCATE audit_checkpoints")).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });

  it("download as JSON that a tenant verifies with openssl and the public key alone", async () => {
    const tenantId = await newTenantWithTrail("openssl", 3);
    const admin = await member(tenantId, "admin@openssl.example", "ADMIN");
    const signed = await signCheckpointNow(admin, tenantId);
    const doc = await checkpointDocumentFor(admin, tenantId, signed.id);
    expect(doc).toMatchObject({ chain: tenantId, seq: "3", keyId: key.keyId });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-checkpoint-"));
    try {
      fs.writeFileSync(path.join(dir, "custody-audit-public-key.pem"), key.publicKeyPem);
      fs.writeFileSync(path.join(dir, "checkpoint.json"), JSON.stringify(doc, null, 2));
      const run = (script: string) => promisify(execFile)("bash", ["-c", script], { cwd: dir });
      // Exactly the commands the integrity page shows (OPENSSL_COMMANDS).
      const { OPENSSL_COMMANDS } = await import("@/lib/audit/integrity/checkpoint-instructions");
      const good = await run(OPENSSL_COMMANDS("checkpoint.json"));
      expect(good.stdout).toContain("Signature Verified Successfully");

      fs.writeFileSync(path.join(dir, "checkpoint.json"), JSON.stringify({ ...doc, statement: doc.statement.replace("seq: 3", "seq: 2") }));
      await expect(run(OPENSSL_COMMANDS("checkpoint.json"))).rejects.toMatchObject({ stdout: expect.stringContaining("Signature Verification Failure") });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are signed on demand by admins and auditors (audited), never across tenants", async () => {
    const tenantId = await newTenantWithTrail("on-demand", 2);
    const otherId = await newTenantWithTrail("on-demand-other", 2);
    const auditor = await member(tenantId, "auditor@on-demand.example", "AUDITOR");
    const outsider = await member(otherId, "admin@on-demand-other.example", "ADMIN");

    const signed = await signCheckpointNow(auditor, tenantId);
    expect(signed).toMatchObject({ chain: tenantId, seq: 2n });
    const event = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "audit.checkpoint_signed" } });
    expect(event).toMatchObject({ actorLabel: "auditor@on-demand.example", outcome: "SUCCESS", targetId: signed.id.toString() });
    expect(event.details).toMatchObject({ seq: "2", headHash: signed.headHash, keyId: key.keyId });

    // Another tenant's admin: refused, recorded as denied on the vendor chain (not in the targeted trail).
    expect((await refusal(signCheckpointNow(outsider, tenantId))).code).toBe("forbidden");
    expect(await getDb().auditEvent.count({ where: { chain: tenantId, action: "audit.checkpoint_signed", outcome: "DENIED" } })).toBe(0);
    expect(await getDb().auditEvent.count({ where: { chain: "vendor", action: "audit.checkpoint_signed", outcome: "DENIED" } })).toBe(1);
    expect((await refusal(listCheckpoints(outsider, tenantId))).code).toBe("not_found");
    // A checkpoint id of another tenant, asked for under one's own tenant: not found.
    expect((await refusal(checkpointDocumentFor(outsider, otherId, signed.id))).code).toBe("not_found");
    expect((await listCheckpoints(auditor, tenantId)).map((c) => c.id)).toEqual([signed.id]);
  });
});

describe("Verify integrity for a tenant's members", () => {
  it("records each run as an audit event with its result", async () => {
    const tenantId = await newTenantWithTrail("audited", 6);
    const auditor = await member(tenantId, "auditor@audited.example", "AUDITOR");
    const report = await verifyTenantTrail(auditor, tenantId);
    expect(report).toMatchObject({ intact: true, events: 6 });
    const event = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "audit.verified" } });
    expect(event).toMatchObject({ seq: 7n, outcome: "SUCCESS", actorLabel: "auditor@audited.example" });
    expect(event.details).toEqual({ result: "intact", events: 6, headSeq: "6", headHash: report.headHash, checkpoints: 0 });

    await tamper(database.url, "UPDATE audit_events SET action = 'key.wrap' WHERE chain = $1 AND seq = 3", [tenantId]);
    expect(await verifyTenantTrail(auditor, tenantId)).toMatchObject({ intact: false, break: { seq: 3n, kind: "edited" } });
    const broken = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "audit.verified" }, orderBy: { seq: "desc" } });
    expect(broken.details).toMatchObject({ result: "broken", events: 2, breakSeq: "3", breakKind: "edited" });
  });

  it("is refused to anyone who is not a member, and verifies nothing", async () => {
    const tenantId = await newTenantWithTrail("members-only", 2);
    const otherId = await newTenantWithTrail("members-only-other", 2);
    const outsider = await member(otherId, "admin@members-only-other.example", "ADMIN");
    const progress: IntegrityProgress[] = [];
    expect((await refusal(verifyTenantTrail(outsider, tenantId, { onProgress: (p) => void progress.push(p) }))).code).toBe("forbidden");
    expect(progress).toEqual([]);
    expect(await getDb().auditEvent.count({ where: { chain: tenantId, action: "audit.verified", outcome: "SUCCESS" } })).toBe(0);
  });

  it("streams progress and then the result as JSON lines, or an error line for an outsider", async () => {
    const tenantId = await newTenantWithTrail("stream", 12);
    const otherId = await newTenantWithTrail("stream-other", 1);
    const admin = await member(tenantId, "admin@stream.example", "ADMIN");
    const outsider = await member(otherId, "admin@stream-other.example", "ADMIN");
    const read = async (stream: ReadableStream<Uint8Array>) =>
      (await new Response(stream).text())
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as IntegrityLine);

    const lines = await read(integrityStream(admin, tenantId));
    expect(lines[0]).toEqual({ type: "progress", checked: 0, total: 0 });
    expect(lines.at(-2)).toEqual({ type: "progress", checked: 12, total: 12 });
    const head = await getDb().auditChain.findUniqueOrThrow({ where: { chain: tenantId } });
    expect(lines.at(-1)).toMatchObject({ type: "result", intact: true, events: 12, headSeq: "12" });
    expect(head.seq).toBe(13n); // the run's own audit.verified event came after the check

    const refused = await read(integrityStream(outsider, tenantId));
    expect(refused).toEqual([
      { type: "progress", checked: 0, total: 0 },
      { type: "error", code: "forbidden", message: "You don't have permission to do that." },
    ]);
  });

  it("records an abandoned run as cancelled", async () => {
    const tenantId = await newTenantWithTrail("abandoned", 3);
    const admin = await member(tenantId, "admin@abandoned.example", "ADMIN");
    const gone = new AbortController();
    gone.abort();
    await expect(verifyTenantTrail(admin, tenantId, { signal: gone.signal })).rejects.toThrow("verification cancelled");
    const event = await getDb().auditEvent.findFirstOrThrow({ where: { chain: tenantId, action: "audit.verified" } });
    expect(event.details).toEqual({ result: "cancelled", events: 3 });
  });

  it("runs one check per trail at a time", async () => {
    const tenantId = await newTenantWithTrail("one-at-a-time", 200);
    const admin = await member(tenantId, "admin@one-at-a-time.example", "ADMIN");
    const runs = await Promise.allSettled([verifyTenantTrail(admin, tenantId), verifyTenantTrail(admin, tenantId)]);
    expect(runs.filter((r) => r.status === "fulfilled").map((r) => r.value)).toEqual([expect.objectContaining({ intact: true })]);
    expect(runs.filter((r) => r.status === "rejected").map((r) => (r.reason as AppError).code)).toEqual(["conflict"]);
    // Once it has finished, the next may run.
    expect(await verifyTenantTrail(admin, tenantId)).toMatchObject({ intact: true });
  });
});
