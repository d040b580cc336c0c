import { describe, expect, it } from "vitest";
import { createHttpServer, DEFAULT_HTTP_TIMEOUTS } from "./http-timeouts";

describe("createHttpServer", () => {
  it("sets the request, head and keep-alive limits in seconds", () => {
    const server = createHttpServer(DEFAULT_HTTP_TIMEOUTS, () => {});
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([10_000, 30_000, 65_000]);
  });
});
