import "server-only";
import { getDb, getReadDb } from "@/lib/db";
import { replicaCaughtUp } from "@/lib/db/read-replica";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { type Caller, grantsAccess, standingOf } from "@/lib/authz";
import { AUDIT_ACTIONS } from "../actions";
import { appendAuditEvent } from "../trail/append";
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, type ExportFormat, exportFileName } from "./export-format";
import { exportStream } from "./export-stream";
import { type AuditFilter, filterParams, isFiltered } from "../query/filter";
import { readRequestFilter } from "../query/request-filter";
import { matchingEvents, searchIndexedSeq, streamAuditEvents } from "../query/query";

// Export of a tenant's trail through the console's filter, for its members (admins and
// auditors). Everything that can refuse happens before the first byte: membership, the
// parameters, and recording the export in the tenant's chain, so a refused or unrecorded
// export sends no file at all, and a file only ever exists with its audit event.

/** A cheap size hint for progress bars: exact when it was cheap to count, else the planner's guess. */
export type ExportEstimate = { events: number; exact: boolean };

export type AuditExport = {
  tenantId: string;
  format: ExportFormat;
  filter: AuditFilter;
  fileName: string;
  contentType: string;
  estimate: ExportEstimate;
  body: ReadableStream<Uint8Array>;
};

export type AuditExportOptions = {
  /** The request's signal: reading stops when the client goes away. */
  signal?: AbortSignal;
  /** Events read from the database per query (the memory bound). */
  batchSize?: number;
};

const NOT_FOUND = "No such tenant.";
const COUNT_CAP = 10_000;
const COUNT_TIMEOUT_MS = 250;

function readFormat(params: URLSearchParams): ExportFormat {
  const format = params.get("format")?.trim().toLowerCase() ?? "";
  if ((EXPORT_FORMATS as readonly string[]).includes(format)) return format as ExportFormat;
  throw new AppError("bad_request", "Choose the export format: format=csv or format=jsonl.", {
    format: ["Choose csv or jsonl."],
  });
}

/**
 * How many events the export will hold, without a full count: the unfiltered trail from its
 * gap-free sequence numbers; a filter by counting at most COUNT_CAP matches under a short
 * statement timeout, and past that the planner's estimate.
 */
export async function estimateExportSize(chain: string, filter: AuditFilter): Promise<ExportEstimate> {
  const db = getReadDb();
  if (!isFiltered(filter)) {
    // Retention prunes from the oldest end, so the span from the oldest kept seq to the head is the count.
    const [row] = await db.$queryRaw<Array<{ n: bigint | null }>>`
      SELECT (SELECT seq FROM audit_chains WHERE chain = ${chain})
             - (SELECT min(seq) FROM audit_events WHERE chain = ${chain}) + 1 AS n`;
    return { events: Number(row?.n ?? 0n), exact: true };
  }
  // Free text and details-backed filters count through the search structure (lib/audit/search).
  const matching = matchingEvents(chain, filter, await searchIndexedSeq(chain, db));
  let atLeast = 0;
  try {
    const counted = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT set_config('statement_timeout', ${String(COUNT_TIMEOUT_MS)}, true)`;
      const [row] = await tx.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM (${matching} LIMIT ${COUNT_CAP + 1}) AS matches`;
      return row?.n ?? 0;
    });
    if (counted <= COUNT_CAP) return { events: counted, exact: true };
    atLeast = counted;
  } catch {
    // Timed out: the matches are sparse in a large trail; the planner's estimate will do.
  }
  const [plan] = await db.$queryRaw<Array<{ "QUERY PLAN": Array<{ Plan: { "Plan Rows": number } }> }>>`
    EXPLAIN (FORMAT JSON) ${matching}`;
  const rows = plan?.["QUERY PLAN"]?.[0]?.Plan?.["Plan Rows"] ?? 0;
  // Stale statistics can make the planner guess far too low; never below what was counted.
  return { events: Math.max(Math.round(rows), atLeast), exact: false };
}

/**
 * Starts an export of tenant `slug`'s trail for `caller`: 404 unless they are a member, 400 for
 * a bad format or filter, then the `audit.exported` event is committed and the stream returned.
 */
export async function startAuditExport(
  caller: Caller,
  slug: string,
  params: URLSearchParams,
  options: AuditExportOptions = {},
): Promise<AuditExport> {
  const db = getDb();
  // Membership first, so a non-member learns nothing from the parameter checks either.
  const tenant = await db.tenant.findFirst({
    where: { slug, memberships: { some: { userId: caller.userId, ...grantsAccess() } } },
    select: { id: true, slug: true },
  });
  if (!tenant) throw new AppError("not_found", NOT_FOUND);

  const format = readFormat(params);
  const filter = readRequestFilter(params, "The export's filter");
  const startedAt = new Date();

  await db.$transaction(async (tx) => {
    // Checked again in the transaction that records the export: a member removed meanwhile gets nothing.
    const standing = await standingOf(tx, caller.userId, tenant.id);
    if (standing.role === null) throw new AppError("not_found", NOT_FOUND);
    await appendAuditEvent(tx, {
      tenantId: tenant.id,
      actor: { type: "user", id: caller.userId, label: standing.email },
      action: AUDIT_ACTIONS.auditExported,
      target: { type: "tenant", id: tenant.id },
      outcome: "success",
      request: caller.request,
      details: { format, filter: filterParams(filter).toString() },
    });
  });
  // After the export's own event, which the file holds when the filter matches it (read from
  // the replica, where there is one, once it has caught up with that event).
  await replicaCaughtUp();
  const estimate = await estimateExportSize(tenant.id, filter);

  const body = exportStream(streamAuditEvents(tenant.id, filter, options.batchSize), format, {
    signal: options.signal,
    onEnd: ({ outcome, events, bytes, error }) => {
      const fields = { tenantId: tenant.id, format, outcome, events, bytes, ms: Date.now() - startedAt.getTime() };
      if (outcome === "failed") log.error({ ...fields, ...errorFields(error) }, "audit export failed");
      else log.info(fields, "audit export ended");
    },
  });
  return {
    tenantId: tenant.id,
    format,
    filter,
    fileName: exportFileName(tenant.slug, format, startedAt),
    contentType: EXPORT_CONTENT_TYPES[format],
    estimate,
    body,
  };
}
