import http from "node:http";
import type { AddressInfo } from "node:net";
import { startKeyService } from "@/lib/keyservice";

// The key service's own handler (lib/keyservice) served from this test process on loopback:
// the same code `npm start` mounts under /api/v1, on DATABASE_URL and the KMS the fixture set
// (tests/helpers/key-service.ts), without a child process to start per suite.

export type InProcessKeyService = { url: string; stop(): Promise<void> };

/** Failed authentications are not limited here (their own suite tests that): hostile suites send thousands. */
const UNLIMITED = { perIp: 1_000_000, perCredential: 1_000_000, windowSeconds: 60 };

export async function startInProcessKeyService(): Promise<InProcessKeyService> {
  const running = await startKeyService({ leaseSeconds: 300, authLimits: UNLIMITED });
  const server = http.createServer(running.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running.stop();
    },
  };
}

export type RawAnswer = { status: number; text: string; headers: Headers };

/** One request exactly as given (body text, headers), for hostile input. */
export async function rawRequest(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<RawAnswer> {
  const response = await fetch(url, { method: init.method, headers: init.headers, body: init.body });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
