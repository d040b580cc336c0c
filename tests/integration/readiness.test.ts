import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJobRunner } from "@/lib/jobs/runner";
import { handleHealth, type ReadinessChecks } from "@/lib/server/health";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// /api/health/ready as a load balancer sees it: ready only when the database answers with every
// migration this release ships applied, the LISTEN connection is up and no background job is
// stuck; otherwise 503 naming what is not. (Unreachable databases: tests/integration/failover.test.ts.)

let database: TestDatabase;
let admin: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

async function ready(checks: ReadinessChecks): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const server = http.createServer((req, res) => handleHealth(req, res, checks));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/api/health/ready`);
    return { status: response.status, body: await response.json() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("readiness", () => {
  it("is ready when everything is", async () => {
    const answer = await ready({ listener: () => true, jobs: () => "ok" });
    expect(answer).toEqual({ status: 200, body: { status: "ready", checks: { database: "ok", migrations: "ok", listener: "ok", jobs: "ok" } } });
  });

  it("is not ready while a migration this release ships is missing from the database", async () => {
    const [newest] = (await admin.query<{ migration_name: string }>("SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1")).rows;
    await admin.query("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1", [newest!.migration_name]);
    try {
      const answer = await ready({});
      expect(answer.status).toBe(503);
      expect(answer.body.checks).toEqual({ database: "ok", migrations: `pending: ${newest!.migration_name}` });
    } finally {
      await admin.query("UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = $1", [newest!.migration_name]);
    }
    expect((await ready({})).status).toBe(200);
  });

  it("is not ready while a background job's run is far overdue, nor once the jobs are stopped", async () => {
    let now = 0;
    let finish!: () => void;
    const runner = startJobRunner(
      [{ name: "stuck", intervalMs: 5_000, firstRunMs: 3_600_000, run: () => new Promise<void>((resolve) => (finish = resolve)) }],
      { now: () => now },
    );
    const running = runner.runNow("stuck");
    now += 9 * 60_000;
    expect((await ready({ jobs: runner.status })).body.checks.jobs).toBe("ok");
    now += 2 * 60_000;
    const stalled = await ready({ jobs: runner.status });
    expect(stalled.status).toBe(503);
    expect(stalled.body.checks.jobs).toBe("stalled");
    finish();
    await running;
    expect((await ready({ jobs: runner.status })).body.checks.jobs).toBe("ok");
    await runner.stop();
    expect((await ready({ jobs: runner.status })).body).toMatchObject({ status: "unavailable", checks: { jobs: "stopped" } });
  });

  it("is not ready while the key service's LISTEN connection is down", async () => {
    const answer = await ready({ listener: () => false });
    expect(answer.status).toBe(503);
    expect(answer.body.checks).toMatchObject({ database: "ok", listener: "down" });
  });
});
