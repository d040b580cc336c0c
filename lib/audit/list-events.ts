import "server-only";
import { getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/tenants/caller";

export type AuditPage = { events: AuditEvent[]; nextBefore: string | null };

/** A tenant's events, newest first, a page at a time (keyset on id: fast at any depth). */
export async function listTenantEvents(
  caller: Caller,
  tenantId: string,
  options: { before?: bigint; limit?: number } = {},
): Promise<AuditPage> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const events = await db.auditEvent.findMany({
    where: { tenantId, ...(options.before !== undefined ? { id: { lt: options.before } } : {}) },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const more = events.length > limit;
  const page = more ? events.slice(0, limit) : events;
  return { events: page, nextBefore: more ? page[page.length - 1]!.id.toString() : null };
}
