import { describe, expect, it } from "vitest";
import { routeRequest } from "./route";

describe("routeRequest", () => {
  const up = { keyService: true, databaseReachable: true };
  const down = { keyService: true, databaseReachable: false };

  it("sends health checks and the key service to their own handlers, whatever the database", () => {
    for (const options of [up, down]) {
      expect(routeRequest("/api/health/ready", options)).toBe("health");
      expect(routeRequest("/api/health/live?probe=1", options)).toBe("health");
      expect(routeRequest("/api/v1/unwrap", options)).toBe("key-service");
      expect(routeRequest("/api/v1", options)).toBe("key-service");
    }
  });

  it("answers console pages 'database unavailable' while the database is away, but still serves static files", () => {
    expect(routeRequest("/t/acme/audit", down)).toBe("database-unavailable");
    expect(routeRequest("/api/auth/session", down)).toBe("database-unavailable");
    expect(routeRequest("/_next/static/chunks/app.js", down)).toBe("next");
    expect(routeRequest("/favicon.ico", down)).toBe("next");
    expect(routeRequest("/t/acme/audit", up)).toBe("next");
  });

  it("leaves /api/v1 to Next when no key service runs in this process", () => {
    expect(routeRequest("/api/v1/wrap", { keyService: false, databaseReachable: true })).toBe("next");
    expect(routeRequest("/api/healthz", up)).toBe("next");
  });
});
