import type http from "node:http";
import { describe, expect, it } from "vitest";
import { stampRequest } from "./stamp-request";

function request(headers: http.IncomingHttpHeaders): { req: http.IncomingMessage; res: http.ServerResponse & { sent: Record<string, unknown> } } {
  const req = { headers: { ...headers }, socket: { remoteAddress: "::ffff:192.0.2.44" } } as unknown as http.IncomingMessage;
  const sent: Record<string, unknown> = {};
  const res = { sent, setHeader: (name: string, value: unknown) => void (sent[name.toLowerCase()] = value) } as unknown as http.ServerResponse & {
    sent: Record<string, unknown>;
  };
  return { req, res };
}

const FORWARDED = {
  host: "custody.example.com",
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "https",
  "x-forwarded-port": "443",
  "x-forwarded-for": "203.0.113.9",
  forwarded: "for=203.0.113.9;host=evil.example;proto=https",
  "x-request-id": "client-chosen-id-123",
};

describe("stampRequest", () => {
  it("drops the forwarding headers a client sent when no proxy is trusted: the Host and the socket count", () => {
    const { req, res } = request(FORWARDED);
    const id = stampRequest(req, res, false);
    for (const name of ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-for", "forwarded"]) {
      expect(req.headers[name], name).toBeUndefined();
    }
    expect(req.headers.host).toBe("custody.example.com");
    expect(req.headers["x-custody-client-ip"]).toBe("192.0.2.44");
    expect(id).not.toBe("client-chosen-id-123");
    expect(res.sent["x-request-id"]).toBe(id);
  });

  it("keeps them behind a trusted proxy (TRUST_PROXY), which sets them itself", () => {
    const { req, res } = request(FORWARDED);
    expect(stampRequest(req, res, true)).toBe("client-chosen-id-123");
    expect(req.headers["x-forwarded-host"]).toBe("evil.example");
    expect(req.headers["x-forwarded-proto"]).toBe("https");
    expect(req.headers["x-custody-client-ip"]).toBe("203.0.113.9");
  });
});
