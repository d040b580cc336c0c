import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb } from "@/lib/db";
import { api, KeyServiceFixture, type KeyServiceInstance, type TenantWithKey } from "../helpers/key-service";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

// The key service against clients that misbehave on purpose: a real key-service process
// (scripts/keyservice.ts) with short client timeouts, reached over raw TCP on loopback.

let database: TestDatabase;
let fixture: KeyServiceFixture;
let instance: KeyServiceInstance;
let acme: TenantWithKey;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  acme = await fixture.tenantWithKey("acme");
  token = (await fixture.credential({ name: "billing-app" })).token;
  instance = await fixture.instance({ HTTP_HEADERS_TIMEOUT_SECONDS: "1", HTTP_REQUEST_TIMEOUT_SECONDS: "2" });
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

/**
 * Opens a raw connection, writes `head`, then one byte of `drip` every 200 ms (a slowloris
 * client that never stops by itself), and resolves with everything the server sent once it
 * closes the connection.
 */
function slowClient(head: string, drip: string): Promise<string> {
  const { hostname, port } = new URL(instance.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = "";
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
      }, 200);
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

  it("closes a connection whose request head never ends", async () => {
    const answer = await slowClient(`POST /api/v1/wrap HTTP/1.1\r\nHost: ${new URL(instance.url).host}\r\nX-Slow: `, "a");
    expect(answer).toMatch(/^(HTTP\/1\.1 408 |$)/);
    const health = await fetch(`${instance.url}/api/v1/health`);
    expect(health.status).toBe(200);
  }, 60_000);
});
