import { rootCertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { SinkDeliveryError } from "../types";
import { parsePostUrl, statusError } from "./http-post";
import { collectorUrl, hecBody } from "./splunk-hec";
import { EVENT } from "./test-fixtures";
import { trustedCas } from "./tls-trust";

function refusal(fn: () => unknown): SinkDeliveryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SinkDeliveryError) return error;
    throw error;
  }
  throw new Error("expected a SinkDeliveryError");
}

describe("parsePostUrl", () => {
  it("accepts https, and http only where the deployment allows it", () => {
    expect(parsePostUrl("https://siem.example/hook", "The webhook", false).href).toBe("https://siem.example/hook");
    expect(parsePostUrl("http://localhost:3001/hook", "The webhook", true).href).toBe("http://localhost:3001/hook");
    const plain = refusal(() => parsePostUrl("http://siem.example/hook", "The webhook", false));
    expect(plain.message).toBe("The webhook URL must use https: (this deployment does not allow plain http).");
    expect(plain.retryable).toBe(false);
  });

  it("refuses other schemes, non-URLs and credentials in the URL", () => {
    expect(refusal(() => parsePostUrl("file:///etc/passwd", "The webhook", true)).message).toBe("The webhook URL must be an https: URL.");
    expect(refusal(() => parsePostUrl("siem.example/hook", "The webhook", false)).message).toBe("The webhook URL is not a valid URL.");
    expect(refusal(() => parsePostUrl("https://u:p@siem.example/", "Splunk HEC", false)).message).toBe(
      "Splunk HEC URL must not contain a user name or password.",
    );
  });
});

describe("statusError", () => {
  it.each([200, 201, 202, 204])("%i is accepted", (status) => expect(statusError("The webhook", status)).toBeNull());
  it.each([408, 429, 500, 502, 503, 504])("%i is retryable", (status) => expect(statusError("The webhook", status)?.retryable).toBe(true));
  it.each([301, 302, 307, 308, 400, 401, 403, 404, 410, 413, 422])("%i is final", (status) =>
    expect(statusError("The webhook", status)?.retryable).toBe(false),
  );
  it("marks only 413 as too large, so the outbox sends smaller batches instead of failing", () => {
    expect(statusError("The webhook", 413)?.tooLarge).toBe(true);
    for (const status of [400, 422, 500]) expect(statusError("The webhook", status)?.tooLarge).toBe(false);
  });
  it("names the status in Node's words and says redirects are not followed", () => {
    expect(statusError("The webhook", 302)?.message).toBe(
      "The webhook answered with a redirect (302 Found); Custody does not follow redirects. Set the sink's URL to the final address.",
    );
    expect(statusError("The webhook", 503)?.message).toBe("The webhook is not accepting deliveries right now (503 Service Unavailable); retrying.");
  });
});

describe("Splunk HEC formatting", () => {
  it("finds the collector endpoint from a base URL or a pasted endpoint", () => {
    for (const base of ["https://splunk.example:8088", "https://splunk.example:8088/", "https://splunk.example:8088/services/collector", "https://splunk.example:8088/services/collector/event"]) {
      expect(collectorUrl(new URL(base)).href).toBe("https://splunk.example:8088/services/collector/event");
    }
    expect(collectorUrl(new URL("https://proxy.example/splunk/")).href).toBe("https://proxy.example/splunk/services/collector/event");
  });

  it("writes one HEC event object per event, time in epoch seconds with milliseconds", () => {
    const body = hecBody([EVENT, { ...EVENT, seq: "43", id: `${EVENT.chain}:43` }], { index: "audit", sourcetype: "custody:audit" }, "app-1");
    const objects = body.toString("utf8").split("\n").map((line) => JSON.parse(line));
    expect(objects).toHaveLength(2);
    expect(objects[0]).toEqual({ time: 1795946401.234, host: "app-1", source: "custody", sourcetype: "custody:audit", index: "audit", event: EVENT });
    expect(objects[1].event.seq).toBe("43");
    expect(JSON.parse(hecBody([EVENT], { index: null, sourcetype: "_json" }, "h").toString())).not.toHaveProperty("index");
  });
});

describe("trustedCas", () => {
  it("is the system's roots when no CA is given", () => {
    expect(trustedCas(null)).toBeUndefined();
    expect(trustedCas("  ")).toBeUndefined();
  });

  it("adds the sink's CA to the system's roots rather than replacing them", () => {
    const pem = rootCertificates[0]!;
    const cas = trustedCas(`# our CA\n${pem}\n`)!;
    expect(cas).toHaveLength(rootCertificates.length + 1);
    expect(cas.slice(0, -1)).toEqual([...rootCertificates]);
    expect(cas.at(-1)).toBe(pem.trim());
  });

  it("refuses text that is not a PEM certificate, before any connection", () => {
    expect(refusal(() => trustedCas("not a cert")).message).toBe("The sink's CA certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----).");
    expect(refusal(() => trustedCas("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).retryable).toBe(false);
  });
});
