import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sendBatch, verifyWebhookSignature } from "@/lib/sinks/transports";
import { SinkDeliveryError, type SinkConfig, type SinkEvent, type TransportOptions } from "@/lib/sinks/types";
import { closedPort } from "../helpers/net";
import { parseRfc5424 } from "../helpers/rfc5424";
import { runSyslogSuite, startRsyslog, type Rsyslog } from "../helpers/rsyslog";
import { hecReply, parseConcatenatedJson, startHttpsReceiver, type HecState, type HttpsReceiver, type Reply } from "../helpers/sink-receivers";
import { makeTestPki, type TestPki } from "../helpers/test-pki";

// The three log-sink transports against real receivers: Debian's rsyslogd (TCP and TLS
// listeners), a local HTTPS webhook receiver that verifies signatures, and a local receiver
// implementing Splunk HEC's endpoint contract. Certificates come from a test CA made here.

const CHAIN = "0c6a3d1e-5b7f-4c2a-9e1d-2f3a4b5c6d7e";
const TRICKY = 'Zoë "Z" O\\Brien [admin] ✓';

function eventAt(seq: number): SinkEvent {
  return {
    id: `${CHAIN}:${seq}`,
    chain: CHAIN,
    seq: String(seq),
    occurredAt: new Date(Date.UTC(2026, 10, 29, 10, 0, seq, 250)).toISOString(),
    tenantId: CHAIN,
    actorType: "user",
    actorId: "u-1",
    actorLabel: TRICKY,
    action: "member.invited",
    targetType: "membership",
    targetId: `m]${seq}\\"`,
    outcome: seq % 3 === 0 ? "failure" : seq % 2 === 0 ? "denied" : "success",
    sourceIp: "203.0.113.7",
    userAgent: "Mozilla/5.0",
    requestId: `req-${seq}`,
    details: { email: "ünïcode@acme.example", note: 'quote " backslash \\ bracket ]' },
    prevHash: "0".repeat(64),
    hash: seq.toString(16).padStart(64, "f"),
  };
}

const batch = (count: number) => Array.from({ length: count }, (_, i) => eventAt(i + 1));
const PRIVATE_OK: TransportOptions = { allowPrivateTargets: true, timeoutMs: 5_000 };
const PRIVATE_FORBIDDEN: TransportOptions = { allowPrivateTargets: false, timeoutMs: 5_000 };

async function deliveryError(promise: Promise<unknown>): Promise<SinkDeliveryError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof SinkDeliveryError)) throw new Error(`expected a SinkDeliveryError, got ${String(error)}`);
  return error;
}

/** Waits until `read` returns at least `count` items (a generous limit: a busy machine is slow). */
async function waitFor<T>(read: () => T[], count: number): Promise<T[]> {
  return vi.waitFor(
    () => {
      const items = read();
      expect(items.length).toBeGreaterThanOrEqual(count);
      return items;
    },
    { timeout: 20_000, interval: 50 },
  );
}

let dir: string;
let pki: TestPki;
let otherPki: TestPki;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "custody-sinks-"));
  pki = makeTestPki(dir, "good");
  otherPki = makeTestPki(dir, "other");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!runSyslogSuite())("syslog (RFC 5424, octet counting) into rsyslogd", () => {
  let rsyslog: Rsyslog;
  const syslog = (overrides: Partial<Extract<SinkConfig, { kind: "syslog" }>> = {}): SinkConfig => ({
    kind: "syslog",
    host: "localhost",
    port: rsyslog.tcpPort,
    transport: "tcp",
    caCertificate: null,
    facility: 13,
    appName: "custody",
    ...overrides,
  });

  beforeAll(async () => {
    rsyslog = await startRsyslog(dir, pki);
  });
  afterAll(async () => {
    await rsyslog?.stop();
  });

  it.each(["tcp", "tls"] as const)("delivers a batch over %s that parses as RFC 5424 with its structured data intact", async (listener) => {
    const events = batch(5);
    await sendBatch(
      listener === "tcp" ? syslog() : syslog({ transport: "tls", port: rsyslog.tlsPort, caCertificate: pki.caPem }),
      events,
      PRIVATE_OK,
    );
    const raw = await waitFor(() => rsyslog.raw(listener), 5);
    expect(raw).toHaveLength(5);
    raw.forEach((line, i) => {
      const event = events[i]!;
      const message = parseRfc5424(line);
      expect(message.pri).toBe(13 * 8 + { success: 5, denied: 4, failure: 3 }[event.outcome]!);
      expect(message.version).toBe(1);
      expect(message.timestamp).toBe(event.occurredAt);
      expect(message.appName).toBe("custody");
      expect(message.msgId).toBe("member.invited");
      expect(message.structuredData).toHaveLength(1);
      const sd = message.structuredData[0]!;
      expect(sd.id).toBe("custody@32473");
      const params = Object.fromEntries(sd.params);
      expect(params).toMatchObject({ id: event.id, chain: CHAIN, seq: event.seq, actorLabel: TRICKY, targetId: event.targetId, requestId: event.requestId });
      expect(message.bom).toBe(true);
      expect(JSON.parse(message.msg)).toEqual(event);
    });
    // rsyslog's own parse agrees: header fields, and mmpstrucdata's unescaped SD values.
    const parsed = await waitFor(() => rsyslog.parsed(listener), 5);
    expect(parsed.map((p) => p.msgid)).toEqual(Array(5).fill("member.invited"));
    expect(parsed.map((p) => p["protocol-version"])).toEqual(Array(5).fill("1"));
    const sds = parsed.map((p) => (p["$!"] as { "rfc5424-sd": Record<string, Record<string, string>> })["rfc5424-sd"]["custody@32473"]!);
    expect(sds.map((sd) => sd.seq)).toEqual(["1", "2", "3", "4", "5"]);
    for (const sd of sds) expect(sd.actorLabel).toBe(TRICKY);
    expect(sds[0]!.targetId).toBe('m]1\\"');
  });

  it("refuses a TLS receiver whose certificate is not from the configured CA, sending nothing", async () => {
    const before = rsyslog.raw("tls").length;
    const wrongCa = await deliveryError(
      sendBatch(syslog({ transport: "tls", port: rsyslog.tlsPort, caCertificate: otherPki.caPem }), batch(1), PRIVATE_OK),
    );
    expect(wrongCa.message).toBe(
      `localhost:${rsyslog.tlsPort}'s TLS certificate is not signed by a trusted CA; if the receiver uses a private CA, add its certificate to the sink.`,
    );
    // Retryable: a receiver mid-way through a certificate change recovers without losing the batch.
    expect(wrongCa.retryable).toBe(true);
    const systemOnly = await deliveryError(sendBatch(syslog({ transport: "tls", port: rsyslog.tlsPort }), batch(1), PRIVATE_OK));
    expect(systemOnly.message).toContain("not signed by a trusted CA");
    // A good delivery after the refused ones is the only message received.
    await sendBatch(syslog({ transport: "tls", port: rsyslog.tlsPort, caCertificate: pki.caPem }), [eventAt(77)], PRIVATE_OK);
    const after = await waitFor(() => rsyslog.raw("tls"), before + 1);
    expect(after.slice(before)).toEqual([expect.stringContaining('seq="77"')]);
  });

  it("reports a closed port as retryable", async () => {
    const port = await closedPort();
    const error = await deliveryError(sendBatch(syslog({ port }), batch(1), PRIVATE_OK));
    expect(error.message).toBe(`localhost:${port} refused the connection (nothing is listening there).`);
    expect(error.retryable).toBe(true);
  });

  it("does not count a batch as accepted until the receiver closes the connection", async () => {
    // Reads everything, never closes: syslog has no ack, so only a clean close means "received".
    const received: Buffer[] = [];
    const stuck = createServer({ allowHalfOpen: true }, (socket) => socket.on("data", (chunk: Buffer) => received.push(chunk)));
    await new Promise<void>((resolve) => stuck.listen(0, "127.0.0.1", resolve));
    const { port } = stuck.address() as { port: number };
    try {
      const error = await deliveryError(sendBatch(syslog({ port }), batch(2), { allowPrivateTargets: true, timeoutMs: 500 }));
      expect(error.message).toBe(`localhost:${port} did not complete the delivery within 0.5 s.`);
      expect(error.retryable).toBe(true);
      expect(Buffer.concat(received).toString("utf8")).toMatch(/^\d+ <109>1 /);
    } finally {
      stuck.close();
    }
  });

  it("refuses a loopback receiver where private targets are not allowed", async () => {
    const before = rsyslog.raw("tcp").length;
    const error = await deliveryError(sendBatch(syslog(), batch(1), PRIVATE_FORBIDDEN));
    expect(error.message).toBe("localhost resolves to a loopback address (127.0.0.1); this deployment does not allow private targets.");
    expect(error.retryable).toBe(false);
    // A permitted delivery after the refused one is the only message received.
    await sendBatch(syslog(), [eventAt(78)], PRIVATE_OK);
    const after = await waitFor(() => rsyslog.raw("tcp"), before + 1);
    expect(after.slice(before)).toEqual([expect.stringContaining('seq="78"')]);
  });
});

describe("webhook (signed HTTPS POST)", () => {
  const SECRET = "whsec_integration_3c5e9a";
  let receiver: HttpsReceiver;
  let answer: (body: Buffer, signature: string | undefined) => Reply;
  const webhook = (overrides: Partial<Extract<SinkConfig, { kind: "webhook" }>> = {}): SinkConfig => ({
    kind: "webhook",
    url: `https://localhost:${receiver.port}/custody/events`,
    secret: SECRET,
    caCertificate: pki.caPem,
    ...overrides,
  });

  beforeAll(async () => {
    receiver = await startHttpsReceiver(pki, (request) => answer(request.body, request.headers["custody-signature"] as string | undefined));
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  // A receiver as the README tells one to write it: verify the raw body, then accept.
  const verifying = (body: Buffer, signature: string | undefined): Reply =>
    verifyWebhookSignature(SECRET, signature, body, 300) ? { status: 204 } : { status: 401, body: "bad signature" };

  it("delivers a signed batch the receiver can verify, events in order with their ids", async () => {
    answer = verifying;
    const before = receiver.requests.length;
    const events = batch(3);
    await sendBatch(webhook(), events, PRIVATE_OK);
    const request = receiver.requests[before]!;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/custody/events");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["user-agent"]).toBe("Custody-LogSink/1");
    expect(request.headers["custody-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(request.body.toString("utf8"))).toEqual({ events });
    expect(verifyWebhookSignature(SECRET, request.headers["custody-signature"] as string, request.body, 300)).toBe(true);
  });

  it("signs with the sink's secret: a receiver with another secret detects it and the refusal is final", async () => {
    answer = verifying;
    const error = await deliveryError(sendBatch(webhook({ secret: "whsec_someone_else" }), batch(1), PRIVATE_OK));
    expect(error.message).toBe("The webhook refused the delivery's credentials (401 Unauthorized).");
    expect(error.message).not.toContain("bad signature");
    expect(error.retryable).toBe(false);
  });

  it("treats 500 as retryable and 400 as final, echoing no response body", async () => {
    answer = () => ({ status: 500, body: "stack trace with db-password=hunter2" });
    const serverError = await deliveryError(sendBatch(webhook(), batch(1), PRIVATE_OK));
    expect(serverError.message).toBe("The webhook is not accepting deliveries right now (500 Internal Server Error); retrying.");
    expect(serverError.retryable).toBe(true);
    answer = () => ({ status: 400, body: "hunter2" });
    const badRequest = await deliveryError(sendBatch(webhook(), batch(1), PRIVATE_OK));
    expect(badRequest.message).toBe("The webhook refused the delivery (400 Bad Request).");
    expect(badRequest.retryable).toBe(false);
  });

  it("does not follow a redirect", async () => {
    answer = () => ({ status: 307, headers: { Location: `https://localhost:${receiver.port}/elsewhere` } });
    const before = receiver.requests.length;
    const error = await deliveryError(sendBatch(webhook(), batch(1), PRIVATE_OK));
    expect(error.message).toContain("answered with a redirect (307 Temporary Redirect); Custody does not follow redirects");
    expect(error.retryable).toBe(false);
    // A followed redirect would have reached the receiver before the answer reached the sender.
    expect(receiver.requests.slice(before).map((r) => r.path)).toEqual(["/custody/events"]);
  });

  it("gives up on a receiver that never answers, retryably", async () => {
    answer = () => "hang";
    const error = await deliveryError(sendBatch(webhook(), batch(1), { allowPrivateTargets: true, timeoutMs: 400 }));
    expect(error.message).toBe(`localhost:${receiver.port} did not complete the delivery within 0.4 s.`);
    expect(error.retryable).toBe(true);
  });

  it("reports connection refused as retryable", async () => {
    const port = await closedPort();
    const error = await deliveryError(sendBatch(webhook({ url: `https://127.0.0.1:${port}/` }), batch(1), PRIVATE_OK));
    expect(error.message).toBe(`127.0.0.1:${port} refused the connection (nothing is listening there).`);
    expect(error.retryable).toBe(true);
  });

  it("verifies the receiver's certificate: untrusted without the sink's CA or with another CA", async () => {
    answer = verifying;
    const before = receiver.requests.length;
    const untrusted = await deliveryError(sendBatch(webhook({ caCertificate: null }), batch(1), PRIVATE_OK));
    expect(untrusted.message).toContain("TLS certificate is not signed by a trusted CA");
    const otherCa = await deliveryError(sendBatch(webhook({ caCertificate: otherPki.caPem }), batch(1), PRIVATE_OK));
    expect(otherCa.message).toContain("TLS certificate is not signed by a trusted CA");
    expect(receiver.requests.length).toBe(before);
  });

  it("refuses a certificate from the trusted CA that names another host", async () => {
    const misnamedPki = makeTestPki(dir, "misnamed", "DNS:siem.example");
    const misnamed = await startHttpsReceiver(misnamedPki, () => ({ status: 204 }));
    try {
      const error = await deliveryError(
        sendBatch(webhook({ url: `https://localhost:${misnamed.port}/`, caCertificate: misnamedPki.caPem }), batch(1), PRIVATE_OK),
      );
      expect(error.message).toBe(`localhost:${misnamed.port}'s TLS certificate is not issued for that host name.`);
      expect(misnamed.requests).toHaveLength(0);
    } finally {
      await misnamed.stop();
    }
  });

  describe("the SSRF guard", () => {
    it("refuses loopback by address and by name, and the metadata address, before connecting", async () => {
      answer = verifying;
      const before = receiver.requests.length;
      const byAddress = await deliveryError(sendBatch(webhook({ url: `https://127.0.0.1:${receiver.port}/` }), batch(1), PRIVATE_FORBIDDEN));
      expect(byAddress.message).toBe("127.0.0.1 is a loopback address; this deployment does not allow private targets.");
      expect(byAddress.retryable).toBe(false);
      const byName = await deliveryError(sendBatch(webhook(), batch(1), PRIVATE_FORBIDDEN));
      expect(byName.message).toBe("localhost resolves to a loopback address (127.0.0.1); this deployment does not allow private targets.");
      const mapped = await deliveryError(sendBatch(webhook({ url: `https://[::ffff:127.0.0.1]:${receiver.port}/` }), batch(1), PRIVATE_FORBIDDEN));
      expect(mapped.message).toContain("is a loopback address");
      const metadata = await deliveryError(sendBatch(webhook({ url: "https://169.254.169.254/latest/meta-data/" }), batch(1), PRIVATE_FORBIDDEN));
      expect(metadata.message).toBe("169.254.169.254 is the cloud metadata service's address; this deployment does not allow private targets.");
      expect(receiver.requests.length).toBe(before);
    });

    it("lets the same target through where private targets are allowed", async () => {
      answer = verifying;
      await sendBatch(webhook({ url: `https://127.0.0.1:${receiver.port}/custody/events` }), batch(1), PRIVATE_OK);
    });

    it("refuses plain http unless the deployment allows it", async () => {
      const error = await deliveryError(sendBatch(webhook({ url: "http://siem.example/hook" }), batch(1), PRIVATE_FORBIDDEN));
      expect(error.message).toBe("The webhook URL must use https: (this deployment does not allow plain http).");
      expect(error.retryable).toBe(false);
      const hec = await deliveryError(
        sendBatch({ kind: "splunk_hec", url: "http://127.0.0.1:1", token: "t", index: null, sourcetype: "_json" }, batch(1), { ...PRIVATE_OK, allowHttp: false }),
      );
      expect(hec.message).toBe("Splunk HEC URL must use https: (this deployment does not allow plain http).");
    });

    it("delivers over plain http where the deployment allows it (development)", async () => {
      const bodies: Buffer[] = [];
      const plain = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          bodies.push(Buffer.concat(chunks));
          res.writeHead(verifyWebhookSignature(SECRET, req.headers["custody-signature"] as string, Buffer.concat(chunks)) ? 200 : 401).end();
        });
      });
      await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = plain.address() as { port: number };
        await sendBatch(webhook({ url: `http://localhost:${port}/dev`, caCertificate: null }), batch(2), { ...PRIVATE_OK, allowHttp: true });
        expect(bodies).toHaveLength(1);
      } finally {
        plain.close();
      }
    });
  });
});

describe("Splunk HEC", () => {
  const TOKEN = "3f1e5a2b-7c9d-4e8f-a0b1-c2d3e4f5a6b7";
  const state: HecState = { token: TOKEN, indexes: ["main", "security"], busy: false };
  let receiver: HttpsReceiver;
  const hec = (overrides: Partial<Extract<SinkConfig, { kind: "splunk_hec" }>> = {}): SinkConfig => ({
    kind: "splunk_hec",
    url: `https://localhost:${receiver.port}`,
    token: TOKEN,
    index: "security",
    sourcetype: "custody:audit",
    caCertificate: pki.caPem,
    ...overrides,
  });

  beforeAll(async () => {
    receiver = await startHttpsReceiver(pki, hecReply(state));
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it("delivers a batch in HEC's format, accepted with code 0", async () => {
    const events = batch(4);
    const before = receiver.requests.length;
    await sendBatch(hec(), events, PRIVATE_OK);
    const request = receiver.requests[before]!;
    expect(request.headers.authorization).toBe(`Splunk ${TOKEN}`);
    const objects = parseConcatenatedJson(request.body.toString("utf8")) as Array<Record<string, unknown>>;
    expect(objects.map((o) => o.event)).toEqual(events);
    expect(objects[0]).toMatchObject({ source: "custody", sourcetype: "custody:audit", index: "security", time: Date.UTC(2026, 10, 29, 10, 0, 1, 250) / 1000 });
    expect(typeof objects[0]!.host).toBe("string");
  });

  it("reads HEC's codes: a bad token or index is final, a busy server retryable", async () => {
    const badToken = await deliveryError(sendBatch(hec({ token: "wrong" }), batch(1), PRIVATE_OK));
    expect(badToken.message).toBe("Splunk HEC refused the token (code 4): check the sink's token.");
    expect(badToken.retryable).toBe(false);
    const badIndex = await deliveryError(sendBatch(hec({ index: "nope" }), batch(1), PRIVATE_OK));
    expect(badIndex.message).toBe('Splunk HEC refused the index "nope" (code 7): it does not exist or the token may not write to it.');
    expect(badIndex.retryable).toBe(false);
    state.busy = true;
    try {
      const busy = await deliveryError(sendBatch(hec(), batch(1), PRIVATE_OK));
      expect(busy.message).toBe("Splunk HEC is busy (code 9); retrying.");
      expect(busy.retryable).toBe(true);
    } finally {
      state.busy = false;
    }
  });

  it("does not mistake a non-HEC endpoint's 200 for success", async () => {
    const other = await startHttpsReceiver(pki, () => ({ status: 200, headers: { "Content-Type": "text/html" }, body: "<html>login</html>" }));
    try {
      const error = await deliveryError(sendBatch(hec({ url: `https://localhost:${other.port}` }), batch(1), PRIVATE_OK));
      expect(error.message).toBe("Splunk HEC answered 200 OK but not as a Splunk HTTP Event Collector; check the sink's URL.");
      expect(error.retryable).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it("refuses a private HEC host where private targets are not allowed", async () => {
    const error = await deliveryError(sendBatch(hec(), batch(1), PRIVATE_FORBIDDEN));
    expect(error.message).toBe("localhost resolves to a loopback address (127.0.0.1); this deployment does not allow private targets.");
  });
});
