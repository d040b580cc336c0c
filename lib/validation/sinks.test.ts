import { describe, expect, it } from "vitest";
import { createSinkSchema, updateSinkSchema } from "./sinks";

const tenantId = "7b0c7c3e-2f55-4a55-9a51-1f7f0d6b1a11";
const production = createSinkSchema({ allowHttp: false });
const demo = createSinkSchema({ allowHttp: true });

function messages(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }): string[] {
  return result.success ? [] : result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("log sink input", () => {
  it("takes a webhook with an https URL and defaults the filter to everything", () => {
    const parsed = production.parse({ tenantId, name: " SIEM ", kind: "webhook", settings: { url: "https://siem.example.com/in" } });
    expect(parsed).toMatchObject({ name: "SIEM", filter: { actions: [], outcomes: [] }, settings: { caCertificate: null } });
  });

  it("takes ids in lower case, as PostgreSQL prints them (the audit chain is that text)", () => {
    const parsed = production.parse({ tenantId: tenantId.toUpperCase(), name: "x", kind: "webhook", settings: { url: "https://siem.example.com/in" } });
    expect(parsed.tenantId).toBe(tenantId);
  });

  it("wants https in production, and no credentials in the URL", () => {
    const plain = { tenantId, name: "x", kind: "webhook", settings: { url: "http://siem.example.com/in" } };
    expect(messages(production.safeParse(plain))).toEqual(["settings.url: Use an https:// URL: events leave Custody encrypted."]);
    expect(demo.safeParse(plain).success).toBe(true);
    expect(messages(production.safeParse({ ...plain, settings: { url: "https://u:p@siem.example.com" } }))).toEqual(["settings.url: Leave credentials out of the URL."]);
    expect(messages(production.safeParse({ ...plain, settings: { url: "not a url" } }))[0]).toMatch(/That is not a URL/);
    expect(messages(production.safeParse({ ...plain, settings: { url: "ftp://siem.example.com" } }))[0]).toMatch(/https:/);
  });

  it("checks syslog's host, port, facility and app name", () => {
    const base = { tenantId, name: "syslog", kind: "syslog", settings: { host: "logs.example.com", port: 6514, transport: "tls" } };
    expect(production.parse(base)).toMatchObject({ settings: { facility: 13, appName: "custody", caCertificate: null } });
    expect(production.safeParse({ ...base, settings: { ...base.settings, host: "[::1]" } }).success).toBe(true);
    const bad = messages(
      production.safeParse({ ...base, settings: { host: "bad host!", port: 70000, transport: "udp", facility: 24, appName: "has space" } }),
    );
    expect(bad).toEqual([
      "settings.host: Enter a host name (such as siem.example.com) or an IP address.",
      "settings.port: Ports are 1 to 65535.",
      "settings.transport: Choose TCP or TLS.",
      "settings.facility: Facility is 0 to 23.",
      "settings.appName: Use printable ASCII without spaces (RFC 5424 APP-NAME).",
    ]);
    expect(messages(production.safeParse({ ...base, settings: { ...base.settings, appName: "a".repeat(49) } }))).toEqual([
      "settings.appName: RFC 5424 allows at most 48 characters.",
    ]);
    expect(messages(production.safeParse({ ...base, settings: { ...base.settings, caCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" } }))).toEqual([
      "settings.caCertificate: Certificate 1 is not a valid X.509 certificate.",
    ]);
  });

  it("checks Splunk HEC's token, index and sourcetype", () => {
    const base = { tenantId, name: "splunk", kind: "splunk_hec", settings: { url: "https://splunk.example.com:8088" }, token: "8a1b-22" };
    expect(production.parse(base)).toMatchObject({ settings: { index: null, sourcetype: "custody:audit" } });
    expect(messages(production.safeParse({ ...base, token: "" }))).toEqual(["token: Enter the HEC token."]);
    expect(messages(production.safeParse({ ...base, settings: { ...base.settings, index: "_Main", sourcetype: "a b" } }))).toEqual([
      "settings.index: Use lower-case letters, digits, _ and - (not first) for the index.",
      "settings.sourcetype: Use letters, digits, _ . : and - for the sourcetype.",
    ]);
  });

  it("takes filter values from the known actions and outcomes only", () => {
    const base = { tenantId, name: "f", kind: "webhook", settings: { url: "https://siem.example.com" } };
    expect(production.parse({ ...base, filter: { actions: ["key.wrap", "key.unwrap", "key.wrap"], outcomes: ["failure", "denied"] } }).filter).toEqual({
      actions: ["key.unwrap", "key.wrap"],
      outcomes: ["denied", "failure"],
    });
    expect(messages(production.safeParse({ ...base, filter: { actions: ["key.steal"] } }))).toEqual(["filter.actions.0: Choose actions from the list."]);
    expect(messages(production.safeParse({ ...base, filter: { outcomes: ["maybe"] } }))).toEqual(["filter.outcomes.0: Outcomes are success, denied and failure."]);
  });

  it("refuses an unknown kind and keeps the HEC token on an edit when none is entered", () => {
    expect(messages(production.safeParse({ tenantId, name: "x", kind: "email", settings: {} }))).toEqual(["kind: Choose webhook, syslog or Splunk HEC."]);
    const edit = updateSinkSchema({ allowHttp: false }).parse({
      tenantId,
      sinkId: tenantId,
      name: "splunk",
      kind: "splunk_hec",
      settings: { url: "https://splunk.example.com:8088" },
      token: "",
    });
    expect(edit.kind === "splunk_hec" && edit.token).toBeUndefined();
  });
});
