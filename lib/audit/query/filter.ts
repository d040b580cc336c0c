// The audit trail's filters as they travel in a URL (`?action=key.unwrap&outcome=denied&…`),
// so a filtered view is a link that can be shared. Pure: the console's filter form, the page,
// the live stream and the export all read the same parameters through parseAuditQuery.
//
// Bad input never reaches SQL: each field is checked here and a clear message says what is
// wrong. Values that only bound the work (page size) are clamped instead of refused.
import { AUDIT_ACTIONS } from "../actions";

export const AUDIT_OUTCOMES = ["success", "denied", "failure"] as const;
export type AuditOutcomeName = (typeof AUDIT_OUTCOMES)[number];

export type AuditFilter = {
  action?: string;
  outcome?: AuditOutcomeName;
  /** An actor's label (person's email, credential name) or the end user a service acted for. */
  actor?: string;
  /** A KMS key id (its console events and every operation with the tenant keys it wraps) or a tenant key id. */
  key?: string;
  /** A data label sent with a key-service call. */
  label?: string;
  object?: string;
  request?: string;
  /** Inclusive start, exclusive end. */
  from?: Date;
  to?: Date;
  /** Free text, at least three characters, matched case-insensitively anywhere in the searchable fields. */
  q?: string;
};

export const FILTER_FIELDS = ["action", "outcome", "actor", "key", "label", "object", "request", "from", "to", "q"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** A position in the newest-first order: events strictly older than (at, seq) come next. */
export type AuditCursor = { at: Date; seq: bigint };

export type AuditQuery = {
  filter: AuditFilter;
  before?: AuditCursor;
  /** Jump to this event (its page starts with it). */
  seq?: bigint;
  limit: number;
};

export type FilterProblem = { field: FilterField | "before" | "seq"; message: string };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_TEXT = 200;
const KNOWN_ACTIONS = new Set<string>(Object.values(AUDIT_ACTIONS));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ISO 8601 with a zone (Z or ±hh:mm), or a bare date (taken as UTC midnight).
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const CURSOR = /^(\d{1,15})_(\d{1,19})$/;
// PostgreSQL's bigint: a larger number in a link would otherwise reach the database and fail there.
const MAX_SEQ = 9_223_372_036_854_775_807n;
// Control characters and bidi overrides: never useful in a filter, and confusing when echoed.
const UNPRINTABLE = /[\p{Cc}\p{Cs}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

type Params = URLSearchParams | Record<string, string | string[] | undefined>;

function read(params: Params, name: string): string | undefined {
  const value = params instanceof URLSearchParams ? params.get(name) : params[name];
  const single = Array.isArray(value) ? value[0] : value;
  const trimmed = single?.trim();
  return trimmed ? trimmed : undefined;
}

function text(field: FilterField, value: string | undefined, problems: FilterProblem[]): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_TEXT) problems.push({ field, message: `Use at most ${MAX_TEXT} characters.` });
  else if (UNPRINTABLE.test(value)) problems.push({ field, message: "Contains characters that cannot appear in the trail." });
  else return value;
  return undefined;
}

function time(field: "from" | "to", value: string | undefined, problems: FilterProblem[]): Date | undefined {
  if (value === undefined) return undefined;
  const date = ISO_TIME.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
    problems.push({ field, message: "Give a date and time with its time zone, e.g. 2026-11-29T14:30:00Z." });
    return undefined;
  }
  return date;
}

/** Parses and checks the trail's query parameters: the filter, the cursor and the page size. */
export function parseAuditQuery(params: Params): { query: AuditQuery; problems: FilterProblem[] } {
  const problems: FilterProblem[] = [];
  const filter: AuditFilter = {};

  const action = read(params, "action");
  if (action !== undefined) {
    if (KNOWN_ACTIONS.has(action)) filter.action = action;
    else problems.push({ field: "action", message: "Not an action the trail records." });
  }
  const outcome = read(params, "outcome")?.toLowerCase();
  if (outcome !== undefined) {
    const name = outcome === "error" ? "failure" : outcome;
    if ((AUDIT_OUTCOMES as readonly string[]).includes(name)) filter.outcome = name as AuditOutcomeName;
    else problems.push({ field: "outcome", message: "Choose success, denied or failure." });
  }
  const key = read(params, "key");
  if (key !== undefined) {
    if (UUID.test(key)) filter.key = key.toLowerCase();
    else problems.push({ field: "key", message: "Not a key id." });
  }
  filter.actor = text("actor", read(params, "actor"), problems);
  filter.label = text("label", read(params, "label"), problems);
  filter.object = text("object", read(params, "object"), problems);
  filter.request = text("request", read(params, "request"), problems);
  const q = text("q", read(params, "q"), problems);
  if (q !== undefined) {
    if ([...q].length < 3) problems.push({ field: "q", message: "Search for at least three characters." });
    else filter.q = q;
  }
  filter.from = time("from", read(params, "from"), problems);
  filter.to = time("to", read(params, "to"), problems);
  if (filter.from && filter.to && filter.from.getTime() >= filter.to.getTime()) {
    problems.push({ field: "to", message: "The end of the time range must be after its start." });
  }
  for (const field of FILTER_FIELDS) if (filter[field] === undefined) delete filter[field];

  const query: AuditQuery = { filter, limit: DEFAULT_PAGE_SIZE };
  const before = read(params, "before");
  if (before !== undefined) {
    const match = CURSOR.exec(before);
    const at = match ? new Date(Number(match[1])) : null;
    if (match && at && !Number.isNaN(at.getTime()) && BigInt(match[2]!) <= MAX_SEQ) query.before = { at, seq: BigInt(match[2]!) };
    else problems.push({ field: "before", message: "This page link is damaged. Start again from the newest events." });
  }
  const seq = read(params, "seq");
  if (seq !== undefined) {
    const n = parseSeq(seq);
    if (n !== undefined) query.seq = n;
    else problems.push({ field: "seq", message: "Not an event number." });
  }
  const limit = read(params, "limit");
  if (limit !== undefined) {
    const n = /^\d{1,9}$/.test(limit) ? Number(limit) : DEFAULT_PAGE_SIZE;
    query.limit = Math.min(Math.max(n, 1), MAX_PAGE_SIZE);
  }
  return { query, problems };
}

/** An event number (seq) from a URL, or undefined when it is not one. */
export function parseSeq(value: string | undefined): bigint | undefined {
  if (!value || !/^[1-9]\d{0,18}$/.test(value)) return undefined;
  const seq = BigInt(value);
  return seq <= MAX_SEQ ? seq : undefined;
}

export function encodeCursor(cursor: AuditCursor): string {
  return `${cursor.at.getTime()}_${cursor.seq}`;
}

/** The filter as URL parameters, in a stable order (for links, the stream and the export). */
export function filterParams(filter: AuditFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const value = filter[field];
    if (value === undefined) continue;
    params.set(field, value instanceof Date ? value.toISOString() : value);
  }
  return params;
}

export function isFiltered(filter: AuditFilter): boolean {
  return FILTER_FIELDS.some((field) => filter[field] !== undefined);
}
