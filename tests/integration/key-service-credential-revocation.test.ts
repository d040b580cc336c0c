import http from "node:http";
import pg from "pg";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AUDIT_ACTIONS, verifyStoredChain } from "@/lib/audit";
import { AuditGroupCommitter } from "@/lib/audit/trail/group-commit";
import { revokeServiceCredential } from "@/lib/credentials";
import { disconnectDb, getDb } from "@/lib/db";
import { closePool, connectionString, getPool } from "@/lib/db/pool";
import type { Invalidation } from "@/lib/keys/invalidation-listener";
import { kmsClientFor } from "@/lib/kms";
import { KeyService } from "@/lib/keyservice";
import { createKeyServiceHandler } from "@/lib/keyservice/handler";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { api, KeyServiceFixture, type TenantWithKey } from "../helpers/key-service";
import { GENEROUS_MS } from "../helpers/wait";

// A revoked service credential on an instance the revocation's NOTIFY has not reached yet. The
// instance runs in this process with its credential notifications held back (the injected
// gate), so "has not heard yet" is a fact, not a race: the revocation is committed through the
// console's own code, its notification is seen to arrive and is held, and only then is the
// instance called. The answer must already be the revoked credential's, and the tenant's trail
// must hold no success by that credential after the revocation.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let tenant: TenantWithKey;
let service: KeyService;
let server: http.Server;
let url: string;
/** Credential notifications that arrived and are being held back. */
const held: Array<() => void> = [];
let holdCredentialNotifications = false;

const metadata = { dataLabel: "invoices", objectId: "inv-1", actor: "user:42", reason: "render" };

function gate(invalidation: Invalidation, apply: () => void): void {
  if (holdCredentialNotifications && invalidation.kind === "credential") held.push(apply);
  else apply();
}

type TrailEvent = { seq: bigint; action: string; outcome: string; actorId: string | null; details: unknown };

async function trail(): Promise<TrailEvent[]> {
  return getDb().auditEvent.findMany({
    where: { chain: tenant.tenantId },
    orderBy: { seq: "asc" },
    select: { seq: true, action: true, outcome: true, actorId: true, details: true },
  });
}

/**
 * The tenant's trail split at the credential's revocation (restricted to the tenant, the
 * revocation is recorded there too), keeping the credential's own events.
 */
async function splitAtRevocation(credential: { id: string; name: string }): Promise<{ before: TrailEvent[]; after: TrailEvent[] }> {
  const events = await trail();
  const revokedAt = events.findIndex(
    (e) => e.action === AUDIT_ACTIONS.credentialRevoked && e.outcome === "SUCCESS" && (e.details as { name?: string }).name === credential.name,
  );
  expect(revokedAt).toBeGreaterThanOrEqual(0);
  const own = (list: TrailEvent[]) => list.filter((e) => e.actorId === credential.id);
  return { before: own(events.slice(0, revokedAt)), after: own(events.slice(revokedAt + 1)) };
}

async function revokeUnheard(credentialId: string): Promise<void> {
  holdCredentialNotifications = true;
  await revokeServiceCredential(fixture.vendor, { credentialId });
  // The NOTIFY has reached the instance and is held: from here on it has not heard, for certain.
  await vi.waitFor(() => expect(held.length).toBeGreaterThan(0), { timeout: GENEROUS_MS });
}

function release(): void {
  holdCredentialNotifications = false;
  for (const apply of held.splice(0)) apply();
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  tenant = await fixture.tenantWithKey("held-back");
  service = new KeyService({ pool: getPool(), connectionString: connectionString(), kms: kmsClientFor, leaseSeconds: 300, invalidationGate: gate });
  await service.start();
  server = http.createServer(createKeyServiceHandler(service));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  release();
  await new Promise((resolve) => server?.close(resolve));
  await service?.stop();
  await fixture?.close();
  await closePool();
  await disconnectDb();
  await database?.drop();
});

describe("a credential revoked while an instance has not heard", () => {
  it("is refused by that instance at once, as unauthenticated, and leaves no success after the revocation", async () => {
    const credential = { ...(await fixture.credential({ name: "doomed-app", tenantId: tenant.tenantId })), name: "doomed-app" };
    const wrapped = await api<{ edek: string }>(url, credential.token, "wrap", { tenantId: tenant.tenantId, metadata });
    expect(wrapped.status).toBe(200);

    await revokeUnheard(credential.id);

    // Admitted by its cache, refused when its use commits.
    const wrap = await api<{ dek?: string }>(url, credential.token, "wrap", { tenantId: tenant.tenantId, metadata });
    expect(wrap.status).toBe(401);
    expect(wrap.body).toEqual({ error: { code: "unauthenticated", message: "This service credential has been revoked." } });
    expect(wrap.headers.get("www-authenticate")).toBe('Bearer realm="custody"');
    // Still unheard, and refused at the door from then on: the refusal made the instance forget it.
    expect(held.length).toBeGreaterThan(0);
    const unwrap = await api<{ dek?: string }>(url, credential.token, "unwrap", { tenantId: tenant.tenantId, edek: wrapped.body.edek, metadata });
    expect(unwrap.status).toBe(401);
    expect(unwrap.body.error?.code).toBe("unauthenticated");
    expect(unwrap.body.dek).toBeUndefined();

    const { after } = await splitAtRevocation(credential);
    expect(after.filter((e) => e.outcome === "SUCCESS")).toEqual([]);
    // The use refused at commit is its own event, with the reason (a refusal at the door is not audited, as ever).
    expect(after.map((e) => [e.action, e.outcome, e.details])).toEqual([
      [AUDIT_ACTIONS.keyWrap, "DENIED", expect.objectContaining({ code: "unauthenticated", reason: "credential_revoked" })],
    ]);
    expect(await verifyStoredChain(tenant.tenantId)).toMatchObject({ intact: true });
    release();
  });

  it("answers calls in flight during the revocation with success or unauthenticated, and every success precedes the revocation", async () => {
    const credential = { ...(await fixture.credential({ name: "busy-app", tenantId: tenant.tenantId })), name: "busy-app" };
    expect((await api(url, credential.token, "wrap", { tenantId: tenant.tenantId, metadata })).status).toBe(200);
    let revoked = false;
    let stop = false;
    const answers: Array<{ status: number; code?: string; afterRevocation: boolean }> = [];
    const worker = async () => {
      while (!stop) {
        const afterRevocation = revoked;
        const result = await api(url, credential.token, "wrap", { tenantId: tenant.tenantId, metadata });
        answers.push({ status: result.status, code: result.body.error?.code, afterRevocation });
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await vi.waitFor(() => expect(answers.length).toBeGreaterThan(40), { timeout: GENEROUS_MS });
    await revokeUnheard(credential.id);
    revoked = true;
    await vi.waitFor(() => expect(answers.filter((a) => a.afterRevocation).length).toBeGreaterThan(40), { timeout: GENEROUS_MS });
    stop = true;
    await Promise.all(workers);
    release();

    expect(answers.filter((a) => !(a.status === 200 || (a.status === 401 && a.code === "unauthenticated")))).toEqual([]);
    // Every call that started after the revocation committed was refused.
    expect(answers.filter((a) => a.afterRevocation && a.status !== 401)).toEqual([]);
    const successes = answers.filter((a) => a.status === 200).length;
    const { before, after } = await splitAtRevocation(credential);
    // One warm-up call plus every 200 the workers got: each has its event, all before the revocation.
    expect(before.filter((e) => e.outcome === "SUCCESS")).toHaveLength(successes + 1);
    expect(after.filter((e) => e.outcome === "SUCCESS")).toEqual([]);
    expect(await verifyStoredChain(tenant.tenantId)).toMatchObject({ intact: true });
  });

  it("a use committing while a revocation holds the credential's row waits for it, then is refused (the order is the row's)", async () => {
    const credential = await fixture.credential({ name: "racing-app", tenantId: tenant.tenantId });
    const revoker = new pg.Client({ connectionString: database.url });
    await revoker.connect();
    const committer = new AuditGroupCommitter(getPool());
    try {
      // What revokeServiceCredential does first: lock the credential's row.
      await revoker.query("BEGIN");
      await revoker.query("SELECT 1 FROM service_credentials WHERE id = $1 FOR UPDATE", [credential.id]);
      const use = committer.append({
        tenantId: tenant.tenantId,
        actor: { type: "service", id: credential.id, label: "racing-app" },
        action: AUDIT_ACTIONS.keyUnwrap,
        outcome: "success",
        request: { sourceIp: null, userAgent: null, requestId: null },
        details: { dataLabel: "invoices" },
        requiresAccess: true,
        credentialId: credential.id,
      });
      // The batch is seen waiting on that row lock: it did not read past the revocation in progress.
      await vi.waitFor(async () => {
        const { rows } = await revoker.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%custody_append_audit_batch%'",
        );
        expect(rows[0]!.n).toBe(1);
      }, { timeout: GENEROUS_MS });
      await revoker.query("UPDATE service_credentials SET revoked_at = now() WHERE id = $1", [credential.id]);
      await revoker.query("COMMIT");
      expect(await use).toMatchObject({ credentialRevoked: true, id: null });
      expect(await getDb().auditEvent.count({ where: { actorId: credential.id } })).toBe(0);
    } finally {
      await committer.close();
      await revoker.end();
    }
  });
});
