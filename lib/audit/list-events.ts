import "server-only";
import { getDb } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/tenants/caller";
import { VENDOR_CHAIN } from "./actions";

export type AuditPage = { events: AuditEvent[]; nextBefore: string | null };

type PageOptions = { before?: bigint; limit?: number };

async function page(chain: string, options: PageOptions): Promise<AuditPage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const events = await getDb().auditEvent.findMany({
    where: { chain, ...(options.before !== undefined ? { id: { lt: options.before } } : {}) },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const more = events.length > limit;
  const shown = more ? events.slice(0, limit) : events;
  return { events: shown, nextBefore: more ? shown[shown.length - 1]!.id.toString() : null };
}

/** A tenant's events, newest first, a page at a time (keyset on id: fast at any depth). */
export async function listTenantEvents(
  caller: Caller,
  tenantId: string,
  options: PageOptions = {},
): Promise<AuditPage> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  return page(tenantId, options);
}

/** The vendor chain (vendor-admin grants, vendor sign-ins, refused sign-ins), for vendor admins. */
export async function listVendorEvents(caller: Caller, options: PageOptions = {}): Promise<AuditPage> {
  const standing = await standingOf(getDb(), caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see the vendor audit trail.");
  return page(VENDOR_CHAIN, options);
}
