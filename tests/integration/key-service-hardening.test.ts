import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredChain } from "@/lib/audit";
import { disconnectDb, getDb } from "@/lib/db";
import { API_SECURITY_HEADERS } from "@/lib/http/security-headers";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The key service against clients that misbehave on purpose: a real key-service process
// (scripts/keyservice.ts) with short client timeouts, reached over raw TCP on loopback, and
// one with low limits on failed authentication. Two processes for the whole file: each start
// costs seconds on a busy machine.

const PER_IP = 8;

let database: TestDatabase;
let fixture: KeyServiceFixture;
let instance: KeyServiceInstance;
let limited: KeyServiceInstance;
let acme: TenantWithKey;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  acme = await fixture.tenantWithKey("acme");
  token = (await fixture.credential({ name: "billing-app" })).token;
  [instance, limited] = await Promise.all([
    fixture.instance({ HTTP_HEADERS_TIMEOUT_SECONDS: "1", HTTP_REQUEST_TIMEOUT_SECONDS: "2", HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: "1" }),
    // Per address 8 (the per-address case, from 127.0.0.1), per credential id 3 (the
    // per-credential case, from 127.0.0.2, whose 7 failures stay under its address's limit).
    fixture.instance({ KEYSERVICE_AUTH_FAILURES_PER_IP: String(PER_IP), KEYSERVICE_AUTH_FAILURES_PER_CREDENTIAL: "3" }),
  ]);
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

/**
 * Opens a raw connection, writes `head`, then one byte of `drip` every 200 ms (a slowloris
 * client that never stops by itself; no drip: it stalls), and resolves with everything the
 * server sent once it closes the connection.
 */
function slowClient(head: string, drip = "", url = instance.url): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = "";
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(head);
      if (drip) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
        }, 200);
      }
    });
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may reset the connection while a byte is on its way: closed all the same.
      if (error.code !== "ECONNRESET" && error.code !== "EPIPE") reject(error);
    });
    socket.on("close", () => {
      clearInterval(timer);
      resolve(received);
    });
  });
}

describe("client timeouts", () => {
  it("answers a body that trickles in 408 and closes the connection, in seconds, not minutes", async () => {
    const head = [
      "POST /api/v1/wrap HTTP/1.1",
      `Host: ${new URL(instance.url).host}`,
      `Authorization: Bearer ${token}`,
      "Content-Type: application/json",
      "Content-Length: 100000",
      "",
      "{",
    ].join("\r\n");
    const answer = await slowClient(head, " ");
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // The instance serves everyone else as before.
    const wrapped = await api(instance.url, token, "wrap", { tenantId: acme.tenantId, metadata: { dataLabel: "invoices" } });
    expect(wrapped.status).toBe(200);
  }, 60_000);

  it("answers a body that stops arriving 408 and closes the connection", async () => {
    const head = [
      "POST /api/v1/wrap HTTP/1.1",
      `Host: ${new URL(instance.url).host}`,
      `Authorization: Bearer ${token}`,
      "Content-Type: application/json",
      "Content-Length: 100",
      "",
      '{"tenantId":',
    ].join("\r\n");
    const events = () => getDb().auditEvent.count({ where: { chain: acme.tenantId } });
    const before = await events();
    const answer = await slowClient(head);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // Nothing ran: no key handed out, nothing recorded.
    expect(await events()).toBe(before);
  }, 60_000);

  it("closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_SECONDS, and says so in Keep-Alive", async () => {
    // One complete request, then nothing: the server must end the connection by itself.
    const answer = await slowClient(`GET /api/v1/health HTTP/1.1\r\nHost: ${new URL(instance.url).host}\r\nConnection: keep-alive\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    // Exactly one response: the connection was kept open for more, then closed while idle.
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  }, 60_000);

  it("closes a connection whose request head never ends", async () => {
    const answer = await slowClient(`POST /api/v1/wrap HTTP/1.1\r\nHost: ${new URL(instance.url).host}\r\nX-Slow: `, "a");
    expect(answer).toMatch(/^(HTTP\/1\.1 408 |$)/);
    const health = await fetch(`${instance.url}/api/v1/health`);
    expect(health.status).toBe(200);
  }, 60_000);
});

describe("security headers", () => {
  it("are on every key-service response: successes, errors, the health check and the OpenAPI document", async () => {
    const responses = [
      await fetch(`${instance.url}/api/v1/health`),
      await fetch(`${instance.url}/api/v1/openapi.json`),
      await fetch(`${instance.url}/api/v1/no-such-thing`),
      await fetch(`${instance.url}/api/v1/wrap`, { method: "GET" }),
      await fetch(`${instance.url}/api/v1/wrap`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      await fetch(`${instance.url}/api/v1/wrap`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{" }),
      await fetch(`${instance.url}/api/v1/wrap`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ tenantId: acme.tenantId, metadata: { dataLabel: "invoices" } }),
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 400, 401, 400, 200]);
    for (const response of responses) {
      for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
        expect(response.headers.get(name), `${response.url} ${response.status} ${name}`).toBe(value);
      }
      // Plain http on loopback, no trusted proxy: no HSTS.
      expect(response.headers.get("strict-transport-security")).toBeNull();
    }
  });
});

describe("failed authentication is rate-limited", () => {
  const bogus = (n: number) => `csk_${n.toString(16).padStart(32, "0")}_${"A".repeat(43)}`;
  const wrapWith = (url: string, bearer: string) => api(url, bearer, "wrap", { tenantId: acme.tenantId, metadata: { dataLabel: "invoices" } });
  /** The status of a wrap sent from `localAddress` (another loopback address is another client address). */
  const wrapFrom = (localAddress: string, url: string, bearer: string) =>
    new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const body = JSON.stringify({ tenantId: acme.tenantId, metadata: { dataLabel: "invoices" } });
      const req = http.request(
        { host: hostname, port, path: "/api/v1/wrap", method: "POST", localAddress, agent: false, headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const limitEvents = () => getDb().auditEvent.findMany({ where: { chain: "vendor", action: "key.auth_rate_limited" }, orderBy: { seq: "asc" } });

  it("per address: after the limit, 429 with Retry-After for the rest of the window, before any lookup; audited once", async () => {
    const before = (await limitEvents()).length;
    const answers = [];
    // Each made-up token names another credential id: only the address's count reaches its limit.
    for (let i = 1; i <= PER_IP + 7; i++) answers.push(await wrapWith(limited.url, bogus(i)));
    expect(answers.map((a) => a.status)).toEqual([...Array(PER_IP).fill(401), ...Array(7).fill(429)]);
    const refused = answers.at(-1)!;
    expect(refused.body.error).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/^Too many failed authentications/) });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // The address is held off as a whole, a valid token included (documented in SECURITY.md).
    expect((await wrapWith(limited.url, token)).status).toBe(429);
    // Other instances count their own.
    expect((await wrapWith(instance.url, token)).status).toBe(200);

    const events = (await limitEvents()).slice(before);
    expect(events.map((e) => [e.outcome, e.sourceIp, e.details])).toEqual([["DENIED", "127.0.0.1", { scope: "ip", failures: PER_IP + 1, windowSeconds: 60 }]]);
    expect(await verifyStoredChain(null)).toMatchObject({ intact: true });
  });

  it("per credential id: wrong secrets get 429 after the limit while the right secret still works", async () => {
    const credential = await fixture.credential({ name: "guessed" });
    const wrong = `${credential.token.slice(0, -43)}${"B".repeat(43)}`;
    const before = (await limitEvents()).length;
    // From another loopback address than the per-address case, which has used up 127.0.0.1's.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await wrapFrom("127.0.0.2", limited.url, wrong));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    expect(await wrapFrom("127.0.0.2", limited.url, credential.token)).toBe(200);
    expect(await wrapFrom("127.0.0.2", limited.url, wrong)).toBe(429);

    const events = (await limitEvents()).slice(before);
    expect(events.map((e) => [e.targetType, e.targetId, e.details])).toEqual([
      ["service_credential", credential.id, { scope: "credential", failures: 4, windowSeconds: 60 }],
    ]);
  });
});
