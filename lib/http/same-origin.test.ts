import { describe, expect, it } from "vitest";
import { crossSite, mayBeServerAction } from "./same-origin";

const headers = (values: Record<string, string>) => new Headers(values);

describe("crossSite", () => {
  it("passes a request from the same host, and one with no Origin", () => {
    expect(crossSite(headers({ host: "custody.example.com", origin: "https://custody.example.com" }))).toBe(false);
    expect(crossSite(headers({ host: "custody.example.com" }))).toBe(false);
  });

  it("refuses another origin, and an Origin that is no URL", () => {
    expect(crossSite(headers({ host: "custody.example.com", origin: "https://evil.example" }))).toBe(true);
    expect(crossSite(headers({ host: "custody.example.com", origin: "null" }))).toBe(true);
  });

  it("compares with X-Forwarded-Host (a trusted proxy's; others are dropped before)", () => {
    expect(crossSite(headers({ host: "10.0.0.7:3000", "x-forwarded-host": "custody.example.com", origin: "https://custody.example.com" }))).toBe(false);
  });
});

describe("mayBeServerAction", () => {
  it("recognises Next's action fetches and form posts to pages", () => {
    expect(mayBeServerAction("POST", "/t/acme/keys", headers({ "next-action": "abc" }))).toBe(true);
    expect(mayBeServerAction("POST", "/t/acme/keys", headers({ "content-type": "multipart/form-data; boundary=x" }))).toBe(true);
    expect(mayBeServerAction("POST", "/vendor", headers({ "content-type": "application/x-www-form-urlencoded" }))).toBe(true);
  });

  it("leaves other requests alone", () => {
    expect(mayBeServerAction("GET", "/t/acme/keys", headers({ "next-action": "abc" }))).toBe(false);
    expect(mayBeServerAction("POST", "/api/auth/signout", headers({ "content-type": "application/x-www-form-urlencoded" }))).toBe(false);
    expect(mayBeServerAction("POST", "/t/acme/audit/integrity/verify", headers({}))).toBe(false);
  });
});
