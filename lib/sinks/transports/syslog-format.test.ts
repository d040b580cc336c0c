import { describe, expect, it } from "vitest";
import { escapeParamValue, formatSyslogMessage, frameOctetCounted, headerField, isSdName, SD_ID, severityOf, structuredData } from "./syslog-format";
import { EVENT } from "./test-fixtures";

const HEADER = { facility: 13, appName: "custody", hostname: "app-1.example", procId: "4711" };

describe("RFC 5424 formatting", () => {
  it("escapes exactly the three characters §6.3.3 names", () => {
    expect(escapeParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
    expect(escapeParamValue("Zoë ✓")).toBe("Zoë ✓");
    // No line break reaches a receiver that splits on them; the JSON message keeps the exact value.
    expect(escapeParamValue("a\r\nb\u0000c\u007fd\te")).toBe("a  b c d e");
  });

  it("writes the header, the SD element and the JSON event after a BOM", () => {
    const message = formatSyslogMessage(EVENT, HEADER);
    // facility 13 (log audit) * 8 + severity 4 (warning, for a denied event)
    expect(message.startsWith("<108>1 2026-11-29T10:00:01.234Z app-1.example custody 4711 key.unwrap [custody@32473 ")).toBe(true);
    const [sd, json] = message.slice(message.indexOf("[")).split(" \uFEFF");
    expect(sd).toBe(
      `[${SD_ID} id="${EVENT.id}" chain="${EVENT.chain}" seq="42" action="key.unwrap" outcome="denied" tenantId="${EVENT.tenantId}"` +
        ` actorType="user" actorId="u1" actorLabel="Zoë \\"Z\\" O\\\\Brien [admin\\]" targetType="key" requestId="r-1"` +
        ` sourceIp="203.0.113.9" hash="${"b".repeat(64)}"]`,
    );
    expect(JSON.parse(json!)).toEqual(EVENT);
  });

  it("leaves null fields out of the structured data", () => {
    expect(structuredData(EVENT)).not.toContain("targetId=");
    expect(structuredData({ ...EVENT, tenantId: null, actorId: null })).not.toMatch(/tenantId=|actorId=/);
  });

  it("maps outcomes to severities", () => {
    expect([severityOf("success"), severityOf("denied"), severityOf("failure")]).toEqual([5, 4, 3]);
    expect(formatSyslogMessage({ ...EVENT, outcome: "success" }, { ...HEADER, facility: 10 })).toMatch(/^<85>1 /);
    expect(formatSyslogMessage({ ...EVENT, outcome: "failure" }, { ...HEADER, facility: 0 })).toMatch(/^<3>1 /);
  });

  it("keeps header fields to printable ASCII and their length limits", () => {
    expect(headerField("my app\u00e9\n", 48)).toBe("myapp");
    expect(headerField("", 48)).toBe("-");
    expect(headerField(null, 48)).toBe("-");
    expect(headerField("x".repeat(40), 32)).toHaveLength(32);
    const message = formatSyslogMessage({ ...EVENT, action: "a b".repeat(20), occurredAt: "not a date" }, { ...HEADER, hostname: "" });
    expect(message).toMatch(/^<108>1 - - custody 4711 abababababababababababababababab \[/);
  });

  it("uses only valid SD-NAMEs", () => {
    const names = [...structuredData(EVENT).matchAll(/ ([^ =]+)="/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    for (const name of [...names, SD_ID]) expect(isSdName(name)).toBe(true);
    expect(isSdName("a=b")).toBe(false);
    expect(isSdName("a b")).toBe(false);
    expect(isSdName('a"')).toBe(false);
    expect(isSdName("a]")).toBe(false);
    expect(isSdName("x".repeat(33))).toBe(false);
  });

  it("frames by octet count, not character count", () => {
    const framed = frameOctetCounted("Zoë ✓");
    expect(framed.toString("utf8")).toBe("8 Zoë ✓");
  });
});
