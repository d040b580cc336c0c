import "server-only";
import type { AuditDetails } from "@/lib/audit/trail/append";
import { getDb, isUniqueViolation, type Tx } from "@/lib/db";
import type { AuditOutcome, LogSink, Prisma } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { type Caller, type Standing, standingOf } from "@/lib/authz";
import type { SinkOutcome } from "@/lib/validation/sinks";
import { destinationOf, type SinkKindRegistry, type StoredSettings } from "../kinds";

// What the sink verbs (one per file beside this one) share: parsing, the membership and role
// checks, the row lock, and the audit event's target and details.

export const TARGET_TYPE = "log_sink";
/** Each sink is a stream of the whole trail to deliver: a bound keeps one tenant from loading the workers. */
export const MAX_SINKS_PER_TENANT = 10;
export const OUTCOME_DB: Record<SinkOutcome, AuditOutcome> = { success: "SUCCESS", denied: "DENIED", failure: "FAILURE" };

/** What a change returns: the new secret, the only time it exists outside the sink. */
export type SinkSecretOnce = { sinkId: string; secret: string | null };

export { parseInput as parse } from "@/lib/validation/parse";

export async function requireMember(caller: Caller, tenantId: string): Promise<Standing> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  return standing;
}

export function notFound(): AppError {
  return new AppError("not_found", "That log sink does not exist in this tenant.");
}

export function detailsOf(
  kinds: SinkKindRegistry,
  name: string,
  kind: string,
  settings: StoredSettings,
  filter: { actions: string[]; outcomes: string[] },
): AuditDetails {
  return {
    name,
    kind,
    destination: destinationOf(kinds, kind, settings).audit,
    actions: filter.actions.length ? filter.actions : "all",
    outcomes: filter.outcomes.length ? filter.outcomes : "all",
  };
}

/** The settings as stored (jsonb): plain JSON. */
export function settingsOf(data: { settings: StoredSettings }): StoredSettings & Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(data.settings)) as StoredSettings & Prisma.InputJsonObject;
}

export function conflictOnName(error: unknown): never {
  if (isUniqueViolation(error)) {
    throw new AppError("conflict", "This tenant already has a log sink with that name.", { name: ["Already in use."] });
  }
  throw error;
}

export async function lockSink(tx: Tx, tenantId: string, sinkId: string): Promise<LogSink> {
  const [row] = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM log_sinks WHERE id = ${sinkId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (!row) throw notFound();
  return tx.logSink.findUniqueOrThrow({ where: { id: sinkId } });
}

