import type { AuditEvent } from "@/lib/db/generated/client";
import {
  type ChainRepresentation,
  type Conversion,
  convertEvent,
  EVENT_FIELDS,
  type EventField,
  type EventFieldsAs,
  same,
  SEQ_AND_TIME_AS_TEXT,
  TEXT_AS_IS,
  type WithTextSeqAndTime,
} from "../trail/event-fields";
import { chainedFieldsOf } from "../trail/stored";

// How an exported event is written: CSV for spreadsheets and JSON Lines for tools. Pure code,
// shared by the export stream (lib/audit/export/export-stream.ts) and its tests.
//
// Both carry every hashed field under the names the hash chain uses (lib/audit/trail/chain.ts), with
// enums as their database labels, times as ISO 8601 UTC and 64-bit integers as strings, so a
// JSON Lines file can be re-hashed event by event (hashEvent) without Custody. The row id is
// left out: it is one sequence across all tenants, so its growth would show a tenant how busy
// the others are (the live stream leaves it out for the same reason); (chain, seq) names an event.

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8; header=present",
  jsonl: "application/jsonl; charset=utf-8",
};

/** Strings and nulls only, except `details` (the stored JSON): the chain's view with seq and time as text. */
type ExportRepresentation = WithTextSeqAndTime<ChainRepresentation>;

/** One exported event. */
export type ExportRecord = EventFieldsAs<ExportRepresentation>;

/** The columns, in file order (the CSV header row): every field of the event (lib/audit/trail/event-fields.ts). */
export const EXPORT_COLUMNS: readonly EventField[] = EVENT_FIELDS;

const CHAIN_TO_EXPORT: Conversion<ChainRepresentation, ExportRepresentation> = {
  ...TEXT_AS_IS,
  ...SEQ_AND_TIME_AS_TEXT,
  actorType: same,
  outcome: same,
  details: (value) => value ?? null,
};

export function exportRecordOf(event: AuditEvent): ExportRecord {
  return convertEvent(chainedFieldsOf(event), CHAIN_TO_EXPORT);
}

// A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and CR,
// may shift it into one): actor labels, user agents and details come from callers, so a
// value like `=HYPERLINK(…)` must stay text. OWASP's advice: prefix a single quote.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180), with the formula-injection guard. Null is an empty cell. Every other
 * cell is quoted: a spreadsheet that splits on `;` (some locales) would otherwise cut
 * `a;=cmd…` into a cell that starts with `=`.
 */
export function csvCell(value: string | null): string {
  if (value === null) return "";
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

const CRLF = "\r\n";

export const CSV_HEADER = EXPORT_COLUMNS.join(",") + CRLF;

/** One event as a CSV record, CRLF-terminated; `details` as JSON text (empty when there are none). */
export function csvLine(record: ExportRecord): string {
  return (
    EXPORT_COLUMNS.map((column) => {
      const value = record[column];
      if (column === "details") return csvCell(value === null ? null : JSON.stringify(value));
      return csvCell(value as string | null);
    }).join(",") + CRLF
  );
}

/** One event as a JSON Lines line: an object with every column, newline-terminated. */
export function jsonLine(record: ExportRecord): string {
  // JSON.stringify escapes CR and LF inside strings, so the line cannot be split.
  return JSON.stringify(record) + "\n";
}

/** `custody-audit-<slug>-<UTC time>.<ext>`; the slug is [a-z0-9-], safe in a header as it is. */
export function exportFileName(slug: string, format: ExportFormat, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  return `custody-audit-${slug}-${stamp}.${format}`;
}
