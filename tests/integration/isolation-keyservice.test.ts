import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb } from "@/lib/db";
import openApiDocument from "@/lib/keyservice/openapi.json";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { TableHashes } from "../helpers/db-state";
import { startInProcessKeyService, type InProcessKeyService, rawRequest } from "../helpers/in-process-key-service";
import { brokenChains, buildWorld, changedTables, type World } from "../helpers/isolation-world";

// The isolation matrix for the key service: every endpoint of its OpenAPI document (a new one
// without a case fails below) × every caller who must be refused × the victim tenant's ids and
// EDEKs. The key service's own handler, in-process on a real database and the development KMS.
// Each case: refused with the documented code (a batch: every item refused), no data key in
// the answer, nothing of the victim's in it, and no table changed but the trail.

type Caller = "anonymous" | "bogus token" | "other tenant's credential" | "victim's credential without the scope";
type Body = (w: World, edek: string) => unknown;
type Case = { public: string } | { scope: ServiceScope; body: Body; mixed?: Body };

const label = { dataLabel: "invoices" };
const CASES: Record<string, Case> = {
  "GET /api/v1/openapi.json": { public: "the API's description, the same for everyone" },
  "GET /api/v1/health": { public: "up or degraded, nothing else" },
  "POST /api/v1/wrap": { scope: "wrap", body: (w) => ({ tenantId: w.victim.tenantId, metadata: label }) },
  "POST /api/v1/unwrap": {
    scope: "unwrap",
    body: (w, edek) => ({ tenantId: w.victim.tenantId, edek, metadata: label }),
    mixed: (w, edek) => ({ tenantId: w.other.tenantId, edek, metadata: label }),
  },
  "POST /api/v1/rekey": {
    scope: "rekey",
    body: (w, edek) => ({ tenantId: w.victim.tenantId, edek, metadata: label }),
    mixed: (w, edek) => ({ tenantId: w.other.tenantId, edek, metadata: label }),
  },
  "POST /api/v1/batch-wrap": { scope: "wrap", body: (w) => ({ tenantId: w.victim.tenantId, items: [label, label] }) },
  "POST /api/v1/batch-unwrap": {
    scope: "unwrap",
    body: (w, edek) => ({ tenantId: w.victim.tenantId, items: [{ ...label, edek }] }),
    mixed: (w, edek) => ({ tenantId: w.other.tenantId, items: [{ ...label, edek }] }),
  },
  "POST /api/v1/batch-rekey": {
    scope: "rekey",
    body: (w, edek) => ({ tenantId: w.victim.tenantId, items: [{ ...label, edek }] }),
    mixed: (w, edek) => ({ tenantId: w.other.tenantId, items: [{ ...label, edek }] }),
  },
};

const documented = Object.entries(openApiDocument.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));

let database: TestDatabase;
/** The database's state, per table, before and after each case (only the tables written to are hashed again). */
let tableHashes: TableHashes;
let world: World;
let service: InProcessKeyService;
let victimEdek: string;
let victimDek: string;
const tokens = {} as Record<Caller, Partial<Record<ServiceScope, string | null>>>;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  world = await buildWorld(database.url);
  service = await startInProcessKeyService();
  const wrapped = await post("/api/v1/wrap", world.victim.credentialToken, { tenantId: world.victim.tenantId, metadata: label });
  expect(wrapped.status).toBe(200);
  ({ edek: victimEdek, dek: victimDek } = JSON.parse(wrapped.text) as { edek: string; dek: string });
  const scoped = async (scopes: ServiceScope[]) => (await world.fixture.credential({ scopes, tenantId: world.victim.tenantId })).token;
  const [onlyRekey, onlyWrap] = await Promise.all([scoped(["rekey"]), scoped(["wrap"])]);
  const all = (token: string | null) => ({ wrap: token, unwrap: token, rekey: token });
  tokens.anonymous = all(null);
  tokens["bogus token"] = all(`csk_${crypto.randomUUID()}_${"x".repeat(43)}`);
  tokens["other tenant's credential"] = all(world.other.credentialToken);
  tokens["victim's credential without the scope"] = { wrap: onlyRekey, unwrap: onlyRekey, rekey: onlyWrap };
  tableHashes = await TableHashes.open(database.url);
});

afterAll(async () => {
  await tableHashes?.close();
  await service?.stop();
  await world?.fixture.close();
  await disconnectDb();
  await database?.drop();
});

function post(path: string, token: string | null, body: unknown) {
  return rawRequest(`${service.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

describe("the key-service isolation matrix", () => {
  it("has a case for every endpoint the OpenAPI document lists, and no other", () => {
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.sort()).toEqual(Object.keys(CASES).sort());
  });

  it("refuses the victim's tenant and EDEKs to every other caller: documented codes, no data key, nothing changed", async () => {
    let cases = 0;
    const failures: string[] = [];
    for (const [endpoint, spec] of Object.entries(CASES)) {
      const [method, path] = endpoint.split(" ") as [string, string];
      if ("public" in spec) {
        cases += 1;
        const answer = await rawRequest(`${service.url}${path}`, { method });
        const leaked = world.victimSecrets.filter((s) => answer.text.includes(s));
        if (answer.status !== 200 || leaked.length > 0) failures.push(`${endpoint}: ${answer.status} ${leaked.join(", ")}`);
        continue;
      }
      for (const caller of Object.keys(tokens) as Caller[]) {
        const variants: Array<[string, Body]> = [["victim ids", spec.body]];
        if (spec.mixed && caller === "other tenant's credential") variants.push(["own tenant id, victim's EDEK", spec.mixed]);
        for (const [variant, body] of variants) {
          cases += 1;
          const problem = await refusedCall(path, tokens[caller][spec.scope] ?? null, body(world, victimEdek));
          if (problem) failures.push(`${endpoint} by ${caller} (${variant}): ${problem}`);
        }
      }
    }
    console.log(`isolation matrix (key service): ${cases} cases over ${documented.length} endpoints`);
    expect(failures).toEqual([]);
    expect(await brokenChains()).toEqual([]);
  });
});

const REFUSED = new Map([
  [401, "unauthenticated"],
  [403, "forbidden"],
  [404, "unknown_tenant"],
  [422, "invalid_edek"],
]);

async function refusedCall(path: string, token: string | null, body: unknown): Promise<string | null> {
  const before = await tableHashes.read();
  const answer = await post(path, token, body);
  const after = await tableHashes.read();
  const changed = changedTables(before, after);
  if (changed.length > 0) return `changed ${changed.join(", ")}`;
  if (answer.text.includes(victimDek) || /"dek"/.test(answer.text)) return "answered a data key";
  const leaked = world.victimSecrets.filter((s) => answer.text.includes(s));
  if (leaked.length > 0) return `answer holds ${leaked.join(", ")}`;
  const parsed = JSON.parse(answer.text) as { error?: { code: string }; results?: Array<{ ok: boolean; error?: { code: string } }> };
  if (answer.status === 200 && parsed.results) {
    const accepted = parsed.results.filter((r) => r.ok || r.error?.code !== "invalid_edek");
    return accepted.length === 0 ? null : `batch items answered ${JSON.stringify(accepted)}`;
  }
  const expected = REFUSED.get(answer.status);
  return expected && parsed.error?.code === expected ? null : `answered ${answer.status} ${JSON.stringify(parsed.error ?? parsed)}`;
}
