import { describe, expect, it } from "vitest";
import { CSV_HEADER, csvLine, exportRecordOf, jsonLine } from "./export-format";
import { createRecordCounter, fileNameFromDisposition } from "./export-progress";
import type { AuditEvent } from "@/lib/db/generated/client";
import { GENESIS_HASH } from "../trail/chain";

function event(n: number, actorLabel: string): AuditEvent {
  return {
    id: BigInt(n),
    chain: "t",
    seq: BigInt(n),
    occurredAt: new Date(1_700_000_000_000 + n),
    tenantId: null,
    actorType: "USER",
    actorId: null,
    actorLabel,
    action: "auth.sign_in",
    targetType: null,
    targetId: null,
    outcome: "SUCCESS",
    sourceIp: null,
    userAgent: null,
    requestId: null,
    details: { note: 'multi\nline "quoted"' },
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
  };
}

/** The text cut into chunks of `size` bytes, as a network would deliver it. */
function chunks(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const labels = ["plain", 'has "quotes", and commas', "line\nbreak\r\nand more", '"', "=formula", "ünïcødé ✓"];

describe("counting exported records while they stream in", () => {
  for (const size of [1, 3, 7, 64, 100_000]) {
    it(`counts CSV records, line breaks inside quoted cells included, in ${size}-byte chunks`, () => {
      const text = CSV_HEADER + labels.map((label, i) => csvLine(exportRecordOf(event(i, label)))).join("");
      const counter = createRecordCounter("csv");
      const seen = chunks(text, size).map((chunk) => counter.push(chunk));
      expect(counter.records).toBe(labels.length);
      // Never more than the records actually complete so far.
      expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true);
    });

    it(`counts JSON Lines in ${size}-byte chunks`, () => {
      const text = labels.map((label, i) => jsonLine(exportRecordOf(event(i, label)))).join("");
      const counter = createRecordCounter("jsonl");
      for (const chunk of chunks(text, size)) counter.push(chunk);
      expect(counter.records).toBe(labels.length);
    });
  }

  it("counts nothing for a header alone", () => {
    const counter = createRecordCounter("csv");
    counter.push(new TextEncoder().encode(CSV_HEADER));
    expect(counter.records).toBe(0);
  });
});

describe("the download's file name", () => {
  it("comes from Content-Disposition, and never carries a path", () => {
    expect(fileNameFromDisposition('attachment; filename="custody-audit-acme-20261129T120000Z.csv"')).toBe(
      "custody-audit-acme-20261129T120000Z.csv",
    );
    expect(fileNameFromDisposition("attachment")).toBeNull();
    expect(fileNameFromDisposition(null)).toBeNull();
    expect(fileNameFromDisposition('attachment; filename="../../etc/passwd"')).toBeNull();
  });
});
