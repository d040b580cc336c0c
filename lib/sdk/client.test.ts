import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  batchRekeyRequestSchema,
  batchRekeyResponseSchema,
  batchUnwrapItemSchema,
  batchUnwrapRequestSchema,
  batchUnwrapResponseSchema,
  batchWrapItemSchema,
  batchWrapRequestSchema,
  batchWrapResponseSchema,
  errorBodySchema,
  KEY_SERVICE_ERRORS,
  type KeyServiceErrorCode,
  rekeyRequestSchema,
  rekeyResponseSchema,
  SERVICE_TOKEN,
  unwrapRequestSchema,
  unwrapResponseSchema,
  wrapRequestSchema,
  wrapResponseSchema,
} from "@/lib/validation/keyservice";
import { CustodyClient, type CustodyClientOptions, CustodyError, type FetchLike } from "./index";

// The client's HTTP behaviour against a small local server that speaks the contract's shapes
// (lib/validation/keyservice.ts): what it sends, how it reads answers and errors, and when it
// retries. The real key service has its own integration test.

const TOKEN = `csk_${"a1".repeat(16)}_${"x".repeat(43)}`;
const TENANT = randomUUID();
const OTHER_TENANT = randomUUID();
const TENANT_KEY = randomUUID();

type Seen = { path: string; headers: http.IncomingHttpHeaders; body: unknown; at: number };
type Handler = (req: Seen, res: http.ServerResponse, nth: number) => void;

let server: http.Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler;
const hanging = new Set<http.ServerResponse>();

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, code: KeyServiceErrorCode, headers: Record<string, string> = {}, message = `refused: ${code}`) {
  send(res, KEY_SERVICE_ERRORS[code].status, errorBodySchema.parse({ error: { code, message } }), headers);
}

function hang(res: http.ServerResponse) {
  hanging.add(res);
}

/** Replies with a response that satisfies the contract's schema (so the fake cannot drift from it). */
function reply<T extends z.ZodType>(res: http.ServerResponse, schema: T, body: z.input<T>) {
  send(res, 200, schema.parse(body));
}

/** A fake key service: real shapes, a random DEK per wrap, EDEKs that only open for their tenant and label. */
function fakeKeyService(): Handler {
  const issued = new Map<string, { dek: string; tenantId: string; dataLabel: string }>();
  const wrapOne = (tenantId: string, dataLabel: string) => {
    const dek = randomBytes(32).toString("base64");
    const edek = randomBytes(61).toString("base64");
    issued.set(edek, { dek, tenantId, dataLabel });
    return { dek, edek, tenantKeyId: TENANT_KEY };
  };
  const open = (tenantId: string, edek: string, dataLabel: string) => {
    const entry = issued.get(edek);
    return entry && entry.tenantId === tenantId && entry.dataLabel === dataLabel ? entry : undefined;
  };
  return ({ path, headers, body }, res) => {
    const match = SERVICE_TOKEN.exec(String(headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!match || headers.authorization !== `Bearer ${TOKEN}`) return sendError(res, "unauthenticated");
    const parse = <T extends z.ZodType>(schema: T): z.output<T> | undefined => {
      const parsed = schema.safeParse(body);
      if (!parsed.success) sendError(res, "bad_request", {}, parsed.error.issues[0]!.message);
      return parsed.success ? parsed.data : undefined;
    };
    switch (path) {
      case "/api/v1/wrap": {
        const request = parse(wrapRequestSchema);
        if (request) reply(res, wrapResponseSchema, wrapOne(request.tenantId, request.metadata.dataLabel));
        return;
      }
      case "/api/v1/unwrap":
      case "/api/v1/rekey": {
        const request = parse(path.endsWith("unwrap") ? unwrapRequestSchema : rekeyRequestSchema);
        if (!request) return;
        const entry = open(request.tenantId, request.edek, request.metadata.dataLabel);
        if (!entry) return sendError(res, "invalid_edek");
        if (path.endsWith("unwrap")) return reply(res, unwrapResponseSchema, { dek: entry.dek, tenantKeyId: TENANT_KEY });
        const edek = randomBytes(61).toString("base64");
        issued.set(edek, entry);
        return reply(res, rekeyResponseSchema, { edek, tenantKeyId: TENANT_KEY, version: 1 });
      }
      case "/api/v1/batch-wrap": {
        const request = parse(batchWrapRequestSchema);
        if (!request) return;
        const results = request.items.map((raw) => {
          const item = batchWrapItemSchema.safeParse(raw);
          if (!item.success) return { ok: false as const, error: { code: "bad_request" as const, message: "bad item" } };
          return { ok: true as const, ...wrapOne(request.tenantId, item.data.dataLabel) };
        });
        return reply(res, batchWrapResponseSchema, { results });
      }
      case "/api/v1/batch-unwrap": {
        const request = parse(batchUnwrapRequestSchema);
        if (!request) return;
        const results = request.items.map((raw) => {
          const item = batchUnwrapItemSchema.safeParse(raw);
          if (!item.success) return { ok: false as const, error: { code: "bad_request" as const, message: "bad item" } };
          const entry = open(request.tenantId, item.data.edek, item.data.dataLabel);
          if (!entry) return { ok: false as const, error: { code: "invalid_edek" as const, message: "does not open" } };
          return { ok: true as const, dek: entry.dek, tenantKeyId: TENANT_KEY };
        });
        return reply(res, batchUnwrapResponseSchema, { results });
      }
      case "/api/v1/batch-rekey": {
        const request = parse(batchRekeyRequestSchema);
        if (!request) return;
        const results = request.items.map((raw) => {
          const item = batchUnwrapItemSchema.safeParse(raw);
          if (!item.success) return { ok: false as const, error: { code: "bad_request" as const, message: "bad item" } };
          const entry = open(request.tenantId, item.data.edek, item.data.dataLabel);
          if (!entry) return { ok: false as const, error: { code: "key_version_retired" as const, message: "retired" } };
          const edek = randomBytes(61).toString("base64");
          issued.set(edek, entry);
          return { ok: true as const, edek, tenantKeyId: TENANT_KEY, version: 2 };
        });
        return reply(res, batchRekeyResponseSchema, { results });
      }
      default:
        return sendError(res, "not_found");
    }
  };
}

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const request: Seen = { path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : undefined, at: performance.now() };
    seen.push(request);
    res.setHeader("X-Request-Id", `req-${seen.length}`);
    handler(request, res, seen.length);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  for (const res of hanging) res.destroy();
  hanging.clear();
  seen = [];
  handler = fakeKeyService();
});

function client(options: Partial<CustodyClientOptions> = {}) {
  return new CustodyClient({ baseUrl, token: TOKEN, retryDelayMs: 1, ...options });
}

async function refusal(promise: Promise<unknown>): Promise<CustodyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustodyError);
  return error as CustodyError;
}

async function closedPortUrl(): Promise<string> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const meta = { dataLabel: "invoices", objectId: "inv-1", actor: "user:42", reason: "render invoice", requestId: "app-req.1" };

describe("CustodyClient requests", () => {
  it("wraps and unwraps: bearer credential, JSON bodies of the contract, DEK as a 32-byte Buffer", async () => {
    const custody = client({ baseUrl: `${baseUrl}/` });
    const wrapped = await custody.wrap(TENANT, meta);
    expect(Buffer.isBuffer(wrapped.dek)).toBe(true);
    expect(wrapped.dek).toHaveLength(32);
    expect(typeof wrapped.edek).toBe("string");
    expect(wrapped.tenantKeyId).toBe(TENANT_KEY);

    const unwrapped = await custody.unwrap(TENANT, wrapped.edek, meta);
    expect(unwrapped.dek.equals(wrapped.dek)).toBe(true);

    expect(seen.map((r) => r.path)).toEqual(["/api/v1/wrap", "/api/v1/unwrap"]);
    expect(seen[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, "content-type": "application/json" });
    expect(seen[0]!.headers["user-agent"]).toMatch(/^custody-sdk-node\//);
    expect(seen[0]!.body).toEqual({ tenantId: TENANT, metadata: meta });
    expect(seen[1]!.body).toEqual({ tenantId: TENANT, edek: wrapped.edek, metadata: meta });
  });

  it("keeps a path prefix of baseUrl (Custody behind a reverse proxy)", async () => {
    handler = (req, res) => reply(res, rekeyResponseSchema, { edek: "AAAA", tenantKeyId: TENANT_KEY, version: 1 });
    await client({ baseUrl: `${baseUrl}/custody/` }).rekey(TENANT, "AAAA", meta);
    expect(seen[0]!.path).toBe("/custody/api/v1/rekey");
  });

  it("rekeys to a new EDEK that unwraps to the same DEK", async () => {
    const custody = client();
    const wrapped = await custody.wrap(TENANT, meta);
    const rekeyed = await custody.rekey(TENANT, wrapped.edek, meta);
    expect(rekeyed.edek).not.toBe(wrapped.edek);
    expect(rekeyed).toEqual({ edek: expect.any(String), tenantKeyId: TENANT_KEY, version: 1 });
    expect((await custody.unwrap(TENANT, rekeyed.edek, meta)).dek.equals(wrapped.dek)).toBe(true);
  });

  it("batch-rekeys per item: each good item's new EDEK and version, each bad one's typed error", async () => {
    const custody = client();
    const wrapped = await custody.wrap(TENANT, meta);
    const results = await custody.batchRekey(TENANT, [{ edek: wrapped.edek, dataLabel: meta.dataLabel }, { edek: "AAAA", dataLabel: "x" }], { reason: "re-key job" });
    expect(seen[1]).toMatchObject({ path: "/api/v1/batch-rekey", body: { tenantId: TENANT, metadata: { reason: "re-key job" } } });
    const [good, bad] = results;
    if (!good?.ok || bad?.ok !== false) throw new Error("unexpected results");
    expect(good).toMatchObject({ tenantKeyId: TENANT_KEY, version: 2 });
    expect((await custody.unwrap(TENANT, good.edek, meta)).dek.equals(wrapped.dek)).toBe(true);
    expect(bad.error).toBeInstanceOf(CustodyError);
    expect(bad.error).toMatchObject({ code: "key_version_retired", retryable: false });
  });

  it("batch calls answer per item, in order, with typed errors for the items that failed", async () => {
    const custody = client();
    const wrapped = await custody.batchWrap(TENANT, [{ dataLabel: "invoices", objectId: "a" }, { dataLabel: "notes" }], { actor: "job:nightly" });
    expect(seen[0]!.body).toEqual({ tenantId: TENANT, items: [{ dataLabel: "invoices", objectId: "a" }, { dataLabel: "notes" }], metadata: { actor: "job:nightly" } });
    expect(wrapped.map((r) => r.ok)).toEqual([true, true]);
    const [first, second] = wrapped;
    if (!first?.ok || !second?.ok) throw new Error("unreachable");
    expect(first.dek).toHaveLength(32);

    const unwrapped = await custody.batchUnwrap(TENANT, [
      { edek: first.edek, dataLabel: "invoices" },
      { edek: second.edek, dataLabel: "invoices" }, // wrapped for "notes"
      { edek: "not base64!", dataLabel: "notes" },
      { edek: second.edek, dataLabel: "notes" },
    ]);
    expect(seen[1]!.body).not.toHaveProperty("metadata");
    expect(unwrapped.map((r) => (r.ok ? "ok" : r.error.code))).toEqual(["ok", "invalid_edek", "bad_request", "ok"]);
    const [a, b, , d] = unwrapped;
    expect(a?.ok && a.dek.equals(first.dek)).toBe(true);
    expect(d?.ok && d.dek.equals(second.dek)).toBe(true);
    if (b?.ok !== false) throw new Error("unreachable");
    expect(b.error).toBeInstanceOf(CustodyError);
    expect(b.error).toMatchObject({ code: "invalid_edek", requestId: "req-2", retryable: false });
  });

  it("refuses a batch answer that does not hold one result per item", async () => {
    handler = (req, res) => reply(res, batchUnwrapResponseSchema, { results: [{ ok: true, dek: randomBytes(32).toString("base64"), tenantKeyId: TENANT_KEY }] });
    const error = await refusal(client().batchUnwrap(TENANT, [{ edek: "AAAA", dataLabel: "x" }, { edek: "AAAA", dataLabel: "x" }]));
    expect(error).toMatchObject({ code: "bad_response", status: 200 });
  });

  it("checks its settings up front", () => {
    expect(() => new CustodyClient({ baseUrl: "localhost:3000", token: TOKEN })).toThrow(TypeError);
    expect(() => new CustodyClient({ baseUrl, token: "" })).toThrow(/csk_/);
    expect(() => new CustodyClient({ baseUrl, token: TOKEN, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new CustodyClient({ baseUrl, token: TOKEN, maxRetries: -1 })).toThrow(/maxRetries/);
    // The credential is not an enumerable property, so logging the client does not leak it.
    expect(JSON.stringify(new CustodyClient({ baseUrl, token: TOKEN }))).not.toContain(TOKEN);
  });
});

describe("CustodyClient errors", () => {
  const codes = Object.keys(KEY_SERVICE_ERRORS) as KeyServiceErrorCode[];
  const retried = new Set<KeyServiceErrorCode>(["kms_unreachable", "kms_throttled", "unavailable"]);

  it.each(codes)("maps %s to a CustodyError with its status and request id, retrying only 503 refusals", async (code) => {
    handler = (req, res) => sendError(res, code, code === "kms_throttled" ? { "Retry-After": "0" } : {});
    const error = await refusal(client({ maxRetries: 2 }).wrap(TENANT, meta));
    expect(error).toMatchObject({ code, status: KEY_SERVICE_ERRORS[code].status, message: `refused: ${code}`, retryable: retried.has(code) });
    const attempts = retried.has(code) ? 3 : 1;
    expect(seen).toHaveLength(attempts);
    expect(error.attempts).toBe(attempts);
    expect(error.requestId).toBe(`req-${attempts}`);
  });

  it("lets callers switch on the code, e.g. access_revoked", async () => {
    handler = (req, res) => sendError(res, "access_revoked");
    const error = await refusal(client().unwrap(TENANT, "AAAA", meta));
    let outcome = "";
    switch (error.code) {
      case "access_revoked":
        outcome = "tenant revoked access";
        break;
      default:
        outcome = "other";
    }
    expect(outcome).toBe("tenant revoked access");
    expect(seen).toHaveLength(1);
  });

  it("retries a 503 refusal and then succeeds, waiting at least Retry-After", async () => {
    const service = fakeKeyService();
    handler = (req, res, nth) => (nth === 1 ? sendError(res, "kms_throttled", { "Retry-After": "1" }) : service(req, res, nth));
    const wrapped = await client().wrap(TENANT, meta);
    expect(wrapped.dek).toHaveLength(32);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("does not wait longer than maxRetryDelayMs: a longer Retry-After goes to the caller", async () => {
    handler = (req, res) => sendError(res, "kms_throttled", { "Retry-After": "30" });
    // Handed over after the first answer: one request, one attempt (a 30 s wait would overrun
    // the test's timeout; no elapsed-time bound, which a loaded machine could break).
    const error = await refusal(client({ maxRetryDelayMs: 2_000 }).unwrap(TENANT, "AAAA", meta));
    expect(error).toMatchObject({ code: "kms_throttled", retryable: true, retryAfterMs: 30_000, attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it("backs off exponentially between attempts", async () => {
    handler = (req, res) => sendError(res, "unavailable");
    await refusal(client({ retryDelayMs: 40, maxRetries: 3 }).unwrap(TENANT, "AAAA", meta));
    const gaps = seen.slice(1).map((r, i) => r.at - seen[i]!.at);
    expect(gaps).toHaveLength(3);
    // Waits are in [d/2, d] for d = 40, 80, 160 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
  });

  it("reports an answer that is not the contract's as bad_response", async () => {
    handler = (req, res) => send(res, 200, { dek: "c2hvcnQ=", edek: "AAAA", tenantKeyId: TENANT_KEY });
    expect(await refusal(client().wrap(TENANT, meta))).toMatchObject({ code: "bad_response", status: 200, retryable: false });

    handler = (req, res) => send(res, 409, { error: { code: "brand_new_code", message: "from a newer server" } });
    const unknown = await refusal(client().wrap(TENANT, meta));
    expect(unknown).toMatchObject({ code: "bad_response", status: 409 });
    expect(unknown.message).toContain("brand_new_code");
  });

  it("retries a proxy's 502 page only for operations that are safe to repeat", async () => {
    handler = (req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>Bad Gateway</html>");
    };
    expect(await refusal(client().wrap(TENANT, meta))).toMatchObject({ code: "bad_response", status: 502, retryable: true, attempts: 1 });
    expect(seen).toHaveLength(1);
    seen = [];
    expect(await refusal(client().unwrap(TENANT, "AAAA", meta))).toMatchObject({ code: "bad_response", attempts: 3 });
    expect(seen).toHaveLength(3);
  });
});

describe("CustodyClient network failures", () => {
  const resetOnce =
    (then: Handler): Handler =>
    (req, res, nth) =>
      nth === 1 ? res.socket?.destroy() : then(req, res, nth);

  it("never retries wrap or batch-wrap after the connection broke mid-request", async () => {
    handler = resetOnce(fakeKeyService());
    const error = await refusal(client().wrap(TENANT, meta));
    expect(error).toMatchObject({ code: "network", retryable: true, attempts: 1, status: undefined });
    expect(seen).toHaveLength(1);

    seen = [];
    handler = resetOnce(fakeKeyService());
    expect(await refusal(client().batchWrap(TENANT, [{ dataLabel: "x" }]))).toMatchObject({ code: "network" });
    expect(seen).toHaveLength(1);
  });

  it("retries unwrap, batch-unwrap and rekey after a reset", async () => {
    const custody = client();
    const wrapped = await custody.wrap(TENANT, meta);
    const service = handler;
    for (const call of [
      () => custody.unwrap(TENANT, wrapped.edek, meta),
      () => custody.batchUnwrap(TENANT, [{ edek: wrapped.edek, dataLabel: meta.dataLabel }]),
      () => custody.rekey(TENANT, wrapped.edek, meta),
    ]) {
      seen = [];
      handler = resetOnce(service);
      await expect(call()).resolves.toBeDefined();
      expect(seen).toHaveLength(2);
    }
  });

  it("retries every operation, wrap included, when the connection was refused", async () => {
    const closed = await closedPortUrl();
    let calls = 0;
    const firstRefused: FetchLike = (url, init) => fetch(calls++ === 0 ? url.replace(baseUrl, closed) : url, init);
    const wrapped = await client({ fetch: firstRefused }).wrap(TENANT, meta);
    expect(wrapped.dek).toHaveLength(32);
    expect(calls).toBe(2);
    expect(seen).toHaveLength(1);
  });

  it("gives up with a network error naming the cause when the service stays unreachable", async () => {
    const error = await refusal(client({ baseUrl: await closedPortUrl(), maxRetries: 2 }).wrap(TENANT, meta));
    expect(error).toMatchObject({ code: "network", attempts: 3, retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.cause).toBeDefined();
  });

  it("times out a silent server: wrap once, unwrap with retries", async () => {
    handler = (req, res) => hang(res);
    expect(await refusal(client({ timeoutMs: 100 }).wrap(TENANT, meta))).toMatchObject({ code: "timeout", attempts: 1, retryable: true });
    expect(seen).toHaveLength(1);

    seen = [];
    expect(await refusal(client({ timeoutMs: 100, maxRetries: 2 }).unwrap(TENANT, "AAAA", meta))).toMatchObject({ code: "timeout", attempts: 3 });
    expect(seen).toHaveLength(3);
  });

  it("times out an answer whose body never finishes", async () => {
    handler = (req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"dek":');
      hang(res);
    };
    expect(await refusal(client({ timeoutMs: 100, maxRetries: 0 }).unwrap(TENANT, "AAAA", meta))).toMatchObject({ code: "timeout", status: undefined });
  });

  it("stops at once when the caller aborts, without retrying", async () => {
    handler = (req, res) => hang(res);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client().unwrap(TENANT, "AAAA", meta, { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(1);
  });
});

describe("encryptRecord / decryptRecord", () => {
  /** A client that keeps the DEK buffers wrap and unwrap handed out, to see that they were zeroed. */
  class WatchedClient extends CustodyClient {
    readonly deks: Buffer[] = [];
    override async wrap(...args: Parameters<CustodyClient["wrap"]>) {
      const result = await super.wrap(...args);
      this.deks.push(result.dek);
      return result;
    }
    override async unwrap(...args: Parameters<CustodyClient["unwrap"]>) {
      const result = await super.unwrap(...args);
      this.deks.push(result.dek);
      return result;
    }
  }
  const record = { dataLabel: "invoices", objectId: "inv-7", actor: "user:42" };

  it("round-trips text and bytes through one wrap and one unwrap, and zeroes the DEKs", async () => {
    const custody = new WatchedClient({ baseUrl, token: TOKEN });
    const envelope = await custody.encryptRecord(TENANT, "Invoice 7: 1,200 EUR", record);
    expect(envelope.subarray(0, 4)).toEqual(Buffer.from("CSR\x01", "latin1"));
    expect(envelope.includes(Buffer.from("Invoice 7"))).toBe(false);
    expect((await custody.decryptRecord(TENANT, envelope, record)).toString("utf8")).toBe("Invoice 7: 1,200 EUR");
    // Stored as text, too.
    expect((await custody.decryptRecord(TENANT, envelope.toString("base64"), record)).toString("utf8")).toBe("Invoice 7: 1,200 EUR");
    expect(seen.map((r) => r.path)).toEqual(["/api/v1/wrap", "/api/v1/unwrap", "/api/v1/unwrap"]);
    expect(seen[0]!.body).toEqual({ tenantId: TENANT, metadata: record });
    expect(custody.deks).toHaveLength(3);
    for (const dek of custody.deks) expect(dek.equals(Buffer.alloc(32))).toBe(true);

    const bytes = new Uint8Array(randomBytes(1000));
    const binary = await custody.encryptRecord(TENANT, bytes, record);
    expect(new Uint8Array(await custody.decryptRecord(TENANT, binary, record))).toEqual(bytes);
  });

  it("uses a fresh DEK and nonce per record", async () => {
    const custody = client();
    const [one, two] = [await custody.encryptRecord(TENANT, "same", record), await custody.encryptRecord(TENANT, "same", record)];
    expect(one.equals(two)).toBe(false);
  });

  it("refuses a record moved to another object, label or tenant", async () => {
    const custody = client();
    const envelope = await custody.encryptRecord(TENANT, "secret", record);
    expect(await refusal(custody.decryptRecord(TENANT, envelope, { ...record, objectId: "inv-8" }))).toMatchObject({ code: "invalid_envelope" });
    expect(await refusal(custody.decryptRecord(TENANT, envelope, { ...record, dataLabel: "notes" }))).toMatchObject({ code: "invalid_edek", status: 422 });
    expect(await refusal(custody.decryptRecord(OTHER_TENANT, envelope, record))).toMatchObject({ code: "invalid_edek" });
  });

  it("detects any altered byte of an envelope with a typed error", async () => {
    const custody = client({ maxRetries: 0 });
    const envelope = await custody.encryptRecord(TENANT, "pay 100 to Alice", record);
    for (let i = 0; i < envelope.length; i++) {
      const tampered = Buffer.from(envelope);
      tampered[i]! ^= 0x01;
      const error = await refusal(custody.decryptRecord(TENANT, tampered, record));
      expect(["invalid_envelope", "invalid_edek"], `byte ${i}`).toContain(error.code);
    }
    const truncated = await refusal(custody.decryptRecord(TENANT, envelope.subarray(0, envelope.length - 1), record));
    expect(truncated.code).toBe("invalid_envelope");
  });

  it("requires an object id before calling the key service", async () => {
    const custody = client();
    await expect(custody.encryptRecord(TENANT, "x", { dataLabel: "invoices" } as never)).rejects.toThrow(TypeError);
    expect(seen).toHaveLength(0);
  });
});
