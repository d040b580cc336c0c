import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import type { AuditEvent } from "@/lib/db/generated/client";
import { GENESIS_HASH, hashEvent, type ChainedFields } from "../trail/chain";
import { CSV_HEADER, csvCell, csvLine, EXPORT_COLUMNS, exportFileName, exportRecordOf, jsonLine } from "./export-format";

/** A stored event (as Prisma returns it) whose hash is right for its fields. */
function storedEvent(overrides: Partial<ChainedFields> = {}): AuditEvent {
  const fields: ChainedFields = {
    chain: "3f1c8a52-7a0e-4d7e-9f5b-2b7f4d0c9e11",
    seq: 42n,
    occurredAt: new Date("2026-11-29T12:34:56.789Z"),
    tenantId: "3f1c8a52-7a0e-4d7e-9f5b-2b7f4d0c9e11",
    actorType: "service",
    actorId: "cred-1",
    actorLabel: "billing-app",
    action: "key.unwrap",
    targetType: "tenant_key",
    targetId: "9a0b6f0e-0c55-4f0e-8d1f-6a3f0e2b7c44",
    outcome: "denied",
    sourceIp: "203.0.113.9",
    userAgent: "custody-sdk/0.1",
    requestId: "req-1",
    details: { dataLabel: "invoices", objectIds: ["a", "b"], items: 2 },
    ...overrides,
  };
  return {
    ...fields,
    id: 9_007_199_254_740_993n, // above 2^53: must survive as text
    actorType: "SERVICE",
    outcome: "DENIED",
    details: fields.details as AuditEvent["details"],
    prevHash: GENESIS_HASH,
    hash: hashEvent(GENESIS_HASH, fields),
  };
}

describe("CSV cells", () => {
  it("quotes commas, quotes and line breaks as RFC 4180 says", () => {
    expect(csvCell("plain")).toBe('"plain"');
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
    expect(csvCell(null)).toBe("");
    expect(csvCell("")).toBe('""');
  });

  it("keeps cells a spreadsheet would run as formulas as text", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) {
      expect(csvCell(`${start}HYPERLINK("http://evil.example")`).replace(/^"/, "")).toMatch(/^'/);
    }
    expect(csvCell("=1+2")).toBe(`"'=1+2"`);
    expect(csvCell('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    // Only the first character matters.
    expect(csvCell("a=b")).toBe('"a=b"');
    expect(csvCell("user-1@example.com")).toBe('"user-1@example.com"');
    // Quoted even without a comma: a spreadsheet splitting on ";" must not see a cell starting with "=".
    expect(csvCell("a;=cmd|' /C calc'!A0")).toBe(`"a;=cmd|' /C calc'!A0"`);
  });
});

describe("an exported event", () => {
  it("as CSV parses back to every field, under the header", () => {
    const event = storedEvent({ actorLabel: 'Ada "the admin", ops\nteam', userAgent: "-cmd|' /C calc'!A0" });
    const [header, row, ...rest] = parse(CSV_HEADER + csvLine(exportRecordOf(event)), { relax_column_count: false }) as string[][];
    expect(rest).toEqual([]);
    expect(header).toEqual([...EXPORT_COLUMNS]);
    const cells = Object.fromEntries(header!.map((name, i) => [name, row![i]]));
    expect(cells).toEqual({
      chain: event.chain,
      seq: "42",
      occurredAt: "2026-11-29T12:34:56.789Z",
      tenantId: event.tenantId,
      actorType: "service",
      actorId: "cred-1",
      actorLabel: 'Ada "the admin", ops\nteam',
      action: "key.unwrap",
      targetType: "tenant_key",
      targetId: event.targetId,
      outcome: "denied",
      sourceIp: "203.0.113.9",
      userAgent: "'-cmd|' /C calc'!A0",
      requestId: "req-1",
      details: JSON.stringify(event.details),
      prevHash: GENESIS_HASH,
      hash: event.hash,
    });
  });

  it("as a JSON line carries every field, and its hash recomputes from the line alone", () => {
    const event = storedEvent({ actorLabel: "line\nbreak", targetType: null, targetId: null });
    const text = jsonLine(exportRecordOf(event));
    expect(text.endsWith("\n")).toBe(true);
    expect(text.slice(0, -1)).not.toContain("\n");
    const record = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(record)).toEqual([...EXPORT_COLUMNS]);
    expect(record).not.toHaveProperty("id");
    expect(record).toMatchObject({ seq: "42", actorType: "service", outcome: "denied", targetId: null });
    const fields = { ...record, seq: BigInt(record.seq as string), occurredAt: new Date(record.occurredAt as string) } as unknown as ChainedFields;
    expect(hashEvent(record.prevHash as string, fields)).toBe(event.hash);
  });

  it("names the file after the tenant and the UTC time", () => {
    expect(exportFileName("acme", "csv", new Date("2026-11-29T08:05:09.123Z"))).toBe("custody-audit-acme-20261129T080509Z.csv");
    expect(exportFileName("acme-eu", "jsonl", new Date("2026-01-02T03:04:05Z"))).toBe("custody-audit-acme-eu-20260102T030405Z.jsonl");
  });
});
