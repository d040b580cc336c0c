import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { revokeServiceCredential } from "@/lib/credentials";
import { getDb } from "@/lib/db";
import { revokeAccess } from "@/lib/keys";
import { api, type KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { expectEveryAnswerAudited, expectOnlyCleanRefusals, type Load, loadOn } from "../helpers/key-service-load";
import { once, startPrivateKeyServiceDatabase } from "../helpers/private-key-service-database";
import type { PrivatePostgres } from "../helpers/private-postgres";

// PostgreSQL crashes under load, and the console revokes a service credential and a tenant the
// moment it can write again, while the key service's LISTEN connection may still be down (the
// notifications are then lost for it). On a PostgreSQL of the test's own (never the shared one),
// with commit timestamps on. failover.test.ts covers the restarts themselves (fast, immediate,
// stop and start; every holder of a connection; SIGKILL of a key service under load); this suite
// covers what must hold across one for revocations of both kinds: each call sent after a
// revocation committed is refused, no success is committed after it, the LISTEN connection is
// back (readiness), no answered call lacks its event, and every chain verifies.

let server: PrivatePostgres;
let databaseUrl: string;
let fixture: KeyServiceFixture;
let close: (() => Promise<void>) | undefined;
let instance: KeyServiceInstance;

beforeAll(async () => {
  ({ server, databaseUrl, fixture, close } = await startPrivateKeyServiceDatabase("custody_faults_database"));
  // The revoked credential's refusals are failed authentications: not rate-limited here, so the
  // load keeps meeting them (the limiter has its own tests).
  instance = await fixture.instance({ KEYSERVICE_AUTH_FAILURES_PER_IP: "100000", KEYSERVICE_AUTH_FAILURES_PER_CREDENTIAL: "100000" });
}, 120_000);

afterAll(async () => {
  await close?.();
});

async function loaded(slug: string, token: string): Promise<{ tenant: TenantWithKey; load: Load }> {
  const tenant = await fixture.tenantWithKey(slug);
  const wrapped = await api<{ edek: string }>(instance.url, token, "wrap", { tenantId: tenant.tenantId, metadata: { dataLabel: "invoices" } });
  expect(wrapped.status).toBe(200);
  const load = loadOn(() => instance.url, tenant, token, wrapped.body.edek, { singles: 6, batches: 0 });
  await load.firstSuccessAfter(Date.now());
  return { tenant, load };
}

/** Commit time (ms since the epoch) of the one event matching `where`. */
async function committedAt(client: pg.Client, where: string, values: unknown[]): Promise<number> {
  const { rows } = await client.query<{ ms: number }>(
    `SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::float8 AS ms FROM audit_events WHERE ${where}`,
    values,
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.ms;
}

describe("PostgreSQL crashes under load; revocations follow as soon as it is back", () => {
  it("refuses the revoked credential and the revoked tenant from their commit on, loses no event, and the chains verify", async () => {
    const doomed = await fixture.credential({ name: "doomed-app" });
    const kept = await fixture.credential({ name: "kept-app" });
    const byCredential = await loaded("faults-db-credential", doomed.token);
    const byTenant = await loaded("faults-db-tenant", kept.token);

    const { upAt } = await server.restart("immediate");
    await Promise.all([
      once(() => revokeServiceCredential(fixture.vendor, { credentialId: doomed.id })),
      once(() => revokeAccess(byTenant.tenant.admin, { tenantId: byTenant.tenant.tenantId })),
    ]);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const credentialRevokedAt = await committedAt(client, "chain = 'vendor' AND action = 'credential.revoked' AND target_id = $1", [doomed.id]);
      const tenantRevokedAt = await committedAt(client, "chain = $1 AND action = 'access.revoked'", [byTenant.tenant.tenantId]);
      console.log(`[faults] revocations committed ${Math.round(credentialRevokedAt - upAt)} and ${Math.round(tenantRevokedAt - upAt)} ms after PostgreSQL accepted connections`);
      await byCredential.load.answeredWith("unauthenticated", Math.ceil(credentialRevokedAt), 20);
      await byTenant.load.answeredWith("access_revoked", Math.ceil(tenantRevokedAt), 20);
      // The LISTEN connection is back (readiness checks it).
      await vi.waitFor(async () => expect((await fetch(`${instance.url}/api/health/ready`)).status).toBe(200), { timeout: 20_000, interval: 50 });
      await Promise.all([byCredential.load.stop(), byTenant.load.stop()]);

      // Each call sent after its revocation committed was refused (or met the outage: none is by now).
      expect(byCredential.load.calls.filter((c) => c.sentAt > credentialRevokedAt && c.status === 200)).toEqual([]);
      expect(byTenant.load.calls.filter((c) => c.sentAt > tenantRevokedAt && c.status === 200)).toEqual([]);
      expectOnlyCleanRefusals(byCredential.load.calls, ["unavailable", "unauthenticated"]);
      expectOnlyCleanRefusals(byTenant.load.calls, ["unavailable", "access_revoked"]);
      expect(instance.process.exitCode).toBeNull();

      // No success by the revoked credential committed after its revocation, on any chain…
      const { rows: late } = await client.query(
        `SELECT chain, seq FROM audit_events
          WHERE actor_id = $1 AND outcome = 'success' AND pg_xact_commit_timestamp(xmin) >= to_timestamp($2 / 1000.0)`,
        [doomed.id, credentialRevokedAt],
      );
      expect(late).toEqual([]);
      // …and none follows the tenant's revocation in its chain.
      const trail = await getDb().auditEvent.findMany({ where: { chain: byTenant.tenant.tenantId }, orderBy: { seq: "asc" } });
      const revokedSeq = trail.findIndex((e) => e.action === "access.revoked");
      expect(trail.slice(revokedSeq + 1).filter((e) => e.outcome === "SUCCESS" && e.actorType === "SERVICE")).toEqual([]);

      // No answered call lost its event: every 200, committed before its answer; every recorded refusal.
      await expectEveryAnswerAudited(databaseUrl, byCredential.load.calls, { commitTimestamps: true });
      await expectEveryAnswerAudited(databaseUrl, byTenant.load.calls, { commitTimestamps: true, refusals: ["access_revoked"] });
      for (const chain of [byCredential.tenant.tenantId, byTenant.tenant.tenantId, null]) {
        expect(await verifyStoredChain(chain)).toMatchObject({ intact: true });
      }
    } finally {
      await client.end();
    }
  });
});
