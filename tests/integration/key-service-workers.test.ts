import fs from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb } from "@/lib/db";
import { restoreAccess, revokeAccess } from "@/lib/keys";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { waitUntil } from "../helpers/wait";

// `npm run keyservice` with two workers (node:cluster, KEYSERVICE_WORKERS=2): each worker holds
// its own leases and caches, a revocation reaches every one of them, a worker that dies is
// replaced, and SIGTERM stops them all. Each call below is a new connection, and the primary
// hands connections to its workers in turn, so consecutive calls reach both.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let service: KeyServiceInstance;
let tenant: TenantWithKey;
let token: string;
let edek: string;

/** One call on a connection of its own. */
function call(operation: string, body: unknown): Promise<{ status: number; code?: string }> {
  const url = new URL(`${service.url}/api/v1/${operation}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), authorization: `Bearer ${token}` } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, code: (JSON.parse(text) as { error?: { code: string } }).error?.code }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

/** Six calls in a row: three on each worker. */
async function unwrapSix(): Promise<Array<{ status: number; code?: string }>> {
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await call("unwrap", { tenantId: tenant.tenantId, edek, metadata: { dataLabel: "invoices" } }));
  return answers;
}

/** The primary's worker processes (its node children; tsx's esbuild helpers are not node). */
function workerPids(): number[] {
  const primary = service.process.pid!;
  return fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(ppid) === primary && comm === "node" && state !== "Z" ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

const decrypts = () => fixture.kms.calls().Decrypt ?? 0;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  tenant = await fixture.tenantWithKey("workers");
  token = (await fixture.credential({ name: "workers-app" })).token;
  service = await fixture.instance({ KEYSERVICE_WORKERS: "2" });
  // Three processes load the code: minutes on a busy machine.
}, 600_000);

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

describe("key service with two workers", () => {
  it("serves from both workers, each with its own lease, and a revocation refuses on every worker", async () => {
    expect(workerPids()).toHaveLength(2);
    const before = decrypts();
    const wrapped = await new Promise<{ edek: string }>((resolve, reject) => {
      const payload = JSON.stringify({ tenantId: tenant.tenantId, metadata: { dataLabel: "invoices" } });
      const request = http.request(
        new URL(`${service.url}/api/v1/wrap`),
        { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), authorization: `Bearer ${token}` } },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => resolve(JSON.parse(text) as { edek: string }));
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
    edek = wrapped.edek;
    expect((await unwrapSix()).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // One lease per worker: both served, neither borrowed the other's.
    expect(decrypts() - before).toBe(2);

    await revokeAccess(tenant.admin, { tenantId: tenant.tenantId });
    expect((await unwrapSix()).map((a) => a.code)).toEqual(Array(6).fill("access_revoked"));

    const restored = await restoreAccess(tenant.admin, { tenantId: tenant.tenantId });
    expect(restored.restored).toBe(true);
    const afterRestore = decrypts();
    expect((await unwrapSix()).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // Each worker had dropped its lease at the revocation and takes a new one.
    expect(decrypts() - afterRestore).toBe(2);
  });

  it("replaces a worker that dies", async () => {
    const [victim, survivor] = workerPids();
    process.kill(victim!, "SIGKILL");
    await waitUntil(() => {
      const now = workerPids();
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!);
    }, "a replacement worker");
    // The replacement serves once it listens: every call answered, whichever worker takes it.
    await waitUntil(async () => (await unwrapSix()).every((a) => a.status === 200), "both workers serving");
  });

  it("stops every worker on SIGTERM", async () => {
    const workers = workerPids();
    expect(workers).toHaveLength(2);
    await service.stop();
    expect(service.process.exitCode).toBe(0);
    await waitUntil(() => workers.every((pid) => !fs.existsSync(`/proc/${pid}`)), "the workers to exit");
  });
});
