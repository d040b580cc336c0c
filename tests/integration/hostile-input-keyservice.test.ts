import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { disconnectDb } from "@/lib/db";
import openApiDocument from "@/lib/keyservice/openapi.json";
import {
  batchRekeyResponseSchema,
  batchUnwrapResponseSchema,
  batchWrapResponseSchema,
  errorBodySchema,
  KEY_SERVICE_ERRORS,
  rekeyResponseSchema,
  unwrapResponseSchema,
  wrapResponseSchema,
} from "@/lib/validation/keyservice";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { fuzzParameters, headerValue, hostileQuery, hostileString, hostileValue, mostly, withExtraKeys } from "../helpers/hostile";
import { type InProcessKeyService, rawRequest, startInProcessKeyService } from "../helpers/in-process-key-service";
import { brokenChains, buildWorld, type World } from "../helpers/isolation-world";

// Hostile input for the key service: for every endpoint of its OpenAPI document, at least
// 1,000 generated requests per run (bodies of every shape, hostile strings in every field,
// altered EDEKs, other tenants' ids, odd content types, query strings and credentials), sent
// to its own handler in-process on a real database and the development KMS. Each answer: no
// 5xx, JSON, an error code the document lists for that endpoint with its status, a success in
// the documented shape; a refused request stores nothing (no audit event for a malformed or
// unauthenticated one, no tenant key for any); every chain verifies afterwards.

/** A backstop against a hang, not a limit: a thousand requests on a busy two-core machine take minutes. */
const PROPERTY_TIMEOUT_MS = 900_000;

type Paths = typeof openApiDocument.paths;
const documented = Object.keys(openApiDocument.paths) as Array<keyof Paths>;
/** The statuses the document lists for this path and method (HEAD as GET); null for a method it does not document there. */
function statusesOf(path: keyof Paths, method: string): string[] | null {
  const operations = openApiDocument.paths[path] as Record<string, { responses: object }>;
  const operation = operations[method === "HEAD" ? "get" : method.toLowerCase()];
  return operation ? Object.keys(operation.responses) : null;
}

const SUCCESS: Record<string, z.ZodType> = {
  "/api/v1/wrap": wrapResponseSchema,
  "/api/v1/unwrap": unwrapResponseSchema,
  "/api/v1/rekey": rekeyResponseSchema,
  "/api/v1/batch-wrap": batchWrapResponseSchema,
  "/api/v1/batch-unwrap": batchUnwrapResponseSchema,
  "/api/v1/batch-rekey": batchRekeyResponseSchema,
};
/** Answers that must leave no trace at all: the request never reached a tenant. */
const TRACELESS = new Set([400, 401, 413]);
const LEAKY = /\n\s+at |TypeError|ReferenceError|Prisma|ECONN|SQLSTATE|syntax error|violates|csk_[0-9a-f-]{36}_/i;

let database: TestDatabase;
let world: World;
let service: InProcessKeyService;
let fingerprint: pg.Client;
const tokens: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  world = await buildWorld(database.url);
  service = await startInProcessKeyService();
  const vendorWide = await world.fixture.credential({ name: "vendor-wide" });
  tokens.push(world.victim.credentialToken, world.other.credentialToken, vendorWide.token);
  for (const [token, tenantId] of [
    [world.victim.credentialToken, world.victim.tenantId],
    [world.other.credentialToken, world.other.tenantId],
    [vendorWide.token, world.victim.tenantId],
  ] as const) {
    const answer = await rawRequest(`${service.url}/api/v1/wrap`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ tenantId, metadata: { dataLabel: "invoices" } }),
    });
    expect(answer.status).toBe(200);
    identities.push({ token, tenantId, edek: (JSON.parse(answer.text) as { edek: string }).edek });
  }
  fingerprint = new pg.Client({ connectionString: database.url });
  await fingerprint.connect();
});

afterAll(async () => {
  await fingerprint?.end();
  await service?.stop();
  await world?.fixture.close();
  await disconnectDb();
  await database?.drop();
});

/** How many tenant keys exist: no refusal may add one. */
async function tenantKeys(): Promise<string> {
  const { rows } = await fingerprint.query<{ n: string }>("SELECT count(*)::text AS n FROM tenant_keys");
  return rows[0]!.n;
}

/** Which of these request ids (each request's own x-request-id) an audit event holds, as its request id or Custody's beside the caller's. */
async function recorded(requestIds: string[]): Promise<string[]> {
  if (requestIds.length === 0) return [];
  const { rows } = await fingerprint.query<{ sent: string }>(
    `SELECT request_id AS sent FROM audit_events WHERE request_id = ANY($1::text[])
     UNION SELECT details->>'custodyRequestId' FROM audit_events WHERE details->>'custodyRequestId' = ANY($1::text[])`,
    [requestIds],
  );
  return rows.map((r) => r.sent);
}

// ---------------------------------------------------------------------------------------
// What an attacker sends.

/** Who calls for which tenant with which EDEK: coherent (so calls get through), then each part perhaps replaced. */
type Identity = { token: string; tenantId: string; edek: string };
const identities: Identity[] = [];

const identity = () => fc.constantFrom(...identities);

const tenantId = (own: string) =>
  mostly(
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(own) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom(world.victim.tenantId, world.other.tenantId, own.toUpperCase(), ` ${own}`, "00000000-0000-0000-0000-000000000000"),
          fc.uuid(),
        ),
      },
    ),
  );

const edek = (own: string) =>
  mostly(
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(own) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom(...identities.map((i) => i.edek)),
          // One character of a real EDEK changed: a tampered key.
          fc.tuple(fc.nat(), fc.constantFrom(..."AQgw+/09")).map(([i, c]) => {
            const at = i % own.length;
            return `${own.slice(0, at)}${c}${own.slice(at + 1)}`;
          }),
          fc.base64String({ maxLength: 1100 }),
        ),
      },
    ),
  );

const dataLabel = () => mostly(fc.oneof({ weight: 6, arbitrary: fc.constant("invoices") }, { weight: 1, arbitrary: fc.constant("payroll") }));
const callMetadata = () =>
  withExtraKeys(fc.record({ actor: hostileString, reason: hostileString, requestId: mostly(fc.constantFrom("req-1", "a.b:c_d-e")) }, { requiredKeys: [] }));
const metadata = () => mostly(withExtraKeys(fc.record({ dataLabel: dataLabel(), objectId: hostileString, actor: hostileString, reason: hostileString }, { requiredKeys: ["dataLabel"] })));
const items = (item: fc.Arbitrary<unknown>) => mostly(fc.array(item, { minLength: 0, maxLength: 4 }));

// Required fields always there (a hostile body of any shape leaves them out); optional ones present or not.
const BODIES: Record<string, (who: Identity) => fc.Arbitrary<unknown>> = {
  "/api/v1/wrap": (who) => withExtraKeys(fc.record({ tenantId: tenantId(who.tenantId), metadata: metadata() }, { requiredKeys: ["tenantId", "metadata"] })),
  "/api/v1/unwrap": (who) =>
    withExtraKeys(fc.record({ tenantId: tenantId(who.tenantId), edek: edek(who.edek), metadata: metadata() }, { requiredKeys: ["tenantId", "edek", "metadata"] })),
  "/api/v1/rekey": (who) =>
    withExtraKeys(fc.record({ tenantId: tenantId(who.tenantId), edek: edek(who.edek), metadata: metadata() }, { requiredKeys: ["tenantId", "edek", "metadata"] })),
  "/api/v1/batch-wrap": (who) =>
    withExtraKeys(
      fc.record(
        {
          tenantId: tenantId(who.tenantId),
          metadata: mostly(callMetadata()),
          items: items(withExtraKeys(fc.record({ dataLabel: dataLabel(), objectId: hostileString }, { requiredKeys: ["dataLabel"] }))),
        },
        { requiredKeys: ["tenantId", "items"] },
      ),
    ),
  "/api/v1/batch-unwrap": (who) =>
    withExtraKeys(
      fc.record(
        {
          tenantId: tenantId(who.tenantId),
          metadata: mostly(callMetadata()),
          items: items(withExtraKeys(fc.record({ edek: edek(who.edek), dataLabel: dataLabel(), objectId: hostileString }, { requiredKeys: ["edek", "dataLabel"] }))),
        },
        { requiredKeys: ["tenantId", "items"] },
      ),
    ),
  // batch-rekey takes batch-unwrap's body.
  "/api/v1/batch-rekey": (who) =>
    withExtraKeys(
      fc.record(
        {
          tenantId: tenantId(who.tenantId),
          metadata: mostly(callMetadata()),
          items: items(withExtraKeys(fc.record({ edek: edek(who.edek), dataLabel: dataLabel(), objectId: hostileString }, { requiredKeys: ["edek", "dataLabel"] }))),
        },
        { requiredKeys: ["tenantId", "items"] },
      ),
    ),
};

type Request = { method: string; query: string; headers: Record<string, string>; body?: string };

/** The envelope around a body: credential, content type, method, query string, raw text. */
function request(path: string): fc.Arbitrary<Request> {
  return identity().chain((who) => envelope(path, who));
}

function envelope(path: string, who: Identity): fc.Arbitrary<Request> {
  const body = fc.oneof(
    { weight: 18, arbitrary: BODIES[path]!(who).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? "") },
    { weight: 1, arbitrary: hostileString },
  );
  const authorization = fc.oneof(
    { weight: 16, arbitrary: fc.constant(`Bearer ${who.token}`) },
    { weight: 2, arbitrary: fc.constantFrom(...tokens).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: headerValue },
  );
  const contentType = fc.oneof(
    { weight: 18, arbitrary: fc.constant("application/json") },
    { weight: 1, arbitrary: fc.constantFrom("application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded", "application/jsonx") },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const method = fc.oneof({ weight: 30, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS") });
  return fc.record({ method, query: hostileQuery, authorization, contentType, body }).map(({ method: m, query, authorization: a, contentType: c, body: b }) => ({
    method: m,
    query,
    headers: { ...(a === null ? {} : { authorization: a }), ...(c === null ? {} : { "content-type": c }) },
    body: m === "GET" ? undefined : b,
  }));
}

// ---------------------------------------------------------------------------------------
// What must hold of every answer.

/** Answers per status in the current property: printed, and proof the generators reach past validation. */
let tally = new Map<number, number>();
/** The request ids of the current property's answers that must have left no trace. */
let traceless: string[] = [];

async function check(path: keyof Paths, sent: Request): Promise<void> {
  const requestId = crypto.randomUUID();
  const headers = { ...sent.headers, "x-request-id": requestId };
  const answer = await rawRequest(`${service.url}${path}${sent.query}`, { method: sent.method, headers, body: sent.body });
  tally.set(answer.status, (tally.get(answer.status) ?? 0) + 1);
  if (TRACELESS.has(answer.status)) traceless.push(requestId);
  const what = `${sent.method} ${path}${sent.query} → ${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500) throw new Error(`a 5xx: ${what}`);
  const statuses = statusesOf(path, sent.method);
  // A method the document does not list for the path is answered with one of its error codes (below).
  if (statuses && !statuses.includes(String(answer.status))) throw new Error(`a status the OpenAPI document does not list for ${path}: ${what}`);
  if (sent.method === "HEAD") return;
  const body: unknown = JSON.parse(answer.text);
  if (answer.status === 200) {
    const schema = SUCCESS[path];
    if (schema && !schema.safeParse(body).success) throw new Error(`a success in an undocumented shape: ${what}`);
    return;
  }
  const error = errorBodySchema.safeParse(body);
  if (!error.success) throw new Error(`an error body not in the documented shape: ${what}`);
  const { code, message } = error.data.error;
  if (KEY_SERVICE_ERRORS[code].status !== answer.status) throw new Error(`${code} with status ${answer.status}: ${what}`);
  if (LEAKY.test(message)) throw new Error(`internal text in the message: ${what}`);
}

/** Runs one property and checks what it stored: no tenant key, no event of a malformed or unauthenticated request. */
async function property(name: string, run: (parameters: ReturnType<typeof fuzzParameters>) => Promise<void>): Promise<void> {
  tally = new Map();
  traceless = [];
  const keysBefore = await tenantKeys();
  await run(fuzzParameters(name));
  console.log(`  ${name} answers by status: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
  expect(await tenantKeys(), "tenant keys created by hostile requests").toBe(keysBefore);
  expect(await recorded(traceless), "malformed or unauthenticated requests recorded in the trail").toEqual([]);
}

describe("hostile input to the key service", () => {
  it("has a property for every endpoint of the OpenAPI document", () => {
    expect(documented.filter((p) => !(p in SUCCESS) && !p.endsWith("/openapi.json") && !p.endsWith("/health"))).toEqual([]);
  });

  for (const path of Object.keys(SUCCESS) as Array<keyof Paths>) {
    it(`${path}: no 5xx, each error documented, nothing stored on refusal`, async () => {
      await property(`POST ${path}`, (parameters) => fc.assert(fc.asyncProperty(request(path), (sent) => check(path, sent)), parameters));
      // The generators reach the operation itself, its refusals past validation, and validation.
      for (const status of [200, 400, 401]) expect(tally.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(0);
      expect([...tally.keys()].some((s) => s === 403 || s === 404 || s === 422), "a refusal past validation").toBe(true);
    }, PROPERTY_TIMEOUT_MS);
  }

  for (const path of ["/api/v1/openapi.json", "/api/v1/health"] as const) {
    it(`${path}: any method and query string, answered as documented`, async () => {
      const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
      const envelope = fc.record({ method, query: hostileQuery, authorization: fc.option(headerValue), body: hostileString });
      await property(path, (parameters) =>
        fc.assert(
          fc.asyncProperty(envelope, ({ method: m, query, authorization, body }) =>
            check(path, { method: m, query, headers: authorization ? { authorization } : {}, body: m === "GET" || m === "HEAD" ? undefined : body }),
          ),
          parameters,
        ),
      );
    }, PROPERTY_TIMEOUT_MS);
  }

  it("leaves every audit chain intact", async () => {
    expect(await brokenChains()).toEqual([]);
  });
});
