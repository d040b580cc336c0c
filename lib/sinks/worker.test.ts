import { describe, expect, it } from "vitest";
import { SinkDeliveryError } from "./types";
import { backoffDelayMs, DEFAULT_BACKOFF, DEFAULT_LEASE_MS, DEFAULT_TIMEOUT_MS, leaseMarginMs, sanitizeDeliveryError } from "./worker";

describe("retry backoff", () => {
  it("is full jitter under an exponential ceiling, capped", () => {
    const ceiling = (attempts: number) => backoffDelayMs(attempts, DEFAULT_BACKOFF, () => 0.999_999);
    expect(ceiling(1)).toBe(999);
    expect(ceiling(2)).toBe(1_999);
    expect(ceiling(5)).toBe(15_999);
    expect(ceiling(10)).toBe(511_999);
    expect(ceiling(11)).toBe(599_999); // the 10-minute cap
    expect(ceiling(1_000)).toBe(599_999);
    expect(backoffDelayMs(7, DEFAULT_BACKOFF, () => 0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelayMs(4);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(8_000);
    }
  });
});

describe("delivery errors as stored and shown", () => {
  it("keeps a transport's words, but never the secret, control characters or unbounded length", () => {
    expect(sanitizeDeliveryError(new SinkDeliveryError("The webhook refused the delivery (HTTP 400).", false), "s3cret")).toBe(
      "The webhook refused the delivery (HTTP 400).",
    );
    expect(sanitizeDeliveryError(new SinkDeliveryError("token s3cret was\nrefused\u0007", false), "s3cret")).toBe("token [redacted] was refused");
    expect(sanitizeDeliveryError(new SinkDeliveryError("x".repeat(2_000), true), null)).toHaveLength(500);
  });

  it("hides unexpected exceptions behind a generic message", () => {
    expect(sanitizeDeliveryError(new Error("ECONNRESET at Socket.<anonymous> (/app/node_modules/x.js:1:1)"), null)).toBe(
      "Delivery failed unexpectedly; the details are in Custody's log.",
    );
  });
});

describe("the lease margin", () => {
  it("leaves room to record the result before the lease ends, and a full default request inside it", () => {
    expect(leaseMarginMs(DEFAULT_LEASE_MS)).toBe(5_000);
    expect(DEFAULT_LEASE_MS - leaseMarginMs(DEFAULT_LEASE_MS)).toBeGreaterThan(DEFAULT_TIMEOUT_MS);
    expect(leaseMarginMs(800)).toBe(200); // short test leases keep three quarters
  });
});
