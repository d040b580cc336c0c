import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthFailureLimiter, type LimitCrossed } from "./auth-limiter";

const from = (sourceIp: string) => ({ sourceIp, userAgent: "test", requestId: null });

describe("AuthFailureLimiter", () => {
  let crossed: LimitCrossed[];
  let limiter: AuthFailureLimiter;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-12-02T10:00:00Z") });
    crossed = [];
    limiter = new AuthFailureLimiter({ perIp: 3, perCredential: 2, windowSeconds: 60 }, async (c) => void crossed.push(c));
  });
  afterEach(() => vi.useRealTimers());

  it("lets an address fail up to its limit, then asks it to wait for the rest of the window", async () => {
    for (let i = 0; i < 3; i++) expect(await limiter.failed(from("192.0.2.1"), null)).toBe(0);
    expect(await limiter.blockedFor("192.0.2.1")).toBe(0);
    expect(await limiter.failed(from("192.0.2.1"), null)).toBe(60);
    vi.advanceTimersByTime(20_000);
    expect(await limiter.blockedFor("192.0.2.1")).toBe(40);
    expect(await limiter.blockedFor("192.0.2.2")).toBe(0);
  });

  it("reports each limit once per window, not once per request", async () => {
    for (let i = 0; i < 10; i++) await limiter.failed(from("192.0.2.1"), "0f0e0d0c-0000-4000-8000-000000000001");
    expect(crossed).toEqual([
      { scope: "credential", key: "0f0e0d0c-0000-4000-8000-000000000001", limit: 2, windowSeconds: 60 },
      { scope: "ip", key: "192.0.2.1", limit: 3, windowSeconds: 60 },
    ]);
    vi.advanceTimersByTime(61_000);
    expect(await limiter.blockedFor("192.0.2.1")).toBe(0);
    for (let i = 0; i < 4; i++) await limiter.failed(from("192.0.2.1"), null);
    expect(crossed.map((c) => c.scope)).toEqual(["credential", "ip", "ip"]);
  });

  it("counts a credential id across addresses", async () => {
    const id = "0f0e0d0c-0000-4000-8000-000000000002";
    expect(await limiter.failed(from("192.0.2.1"), id)).toBe(0);
    expect(await limiter.failed(from("192.0.2.2"), id)).toBe(0);
    expect(await limiter.failed(from("192.0.2.3"), id)).toBe(60);
    expect(await limiter.blockedFor("192.0.2.3")).toBe(0);
  });
});
