import "server-only";
import { getDb, getReadDb } from "@/lib/db";
import { replicaCaughtUp } from "@/lib/db/read-replica";
import type { AuditEvent } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/authz";
import { VENDOR_CHAIN } from "../actions";
import { type AuditCursor, type AuditFilter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./filter";
import { type AuditPage, chainHeadSeq, cursorAt, findChainEvent, queryAuditPage } from "./query";

// The trail as the console reads it: who may read which chain, then the query. A tenant's
// members (admins and auditors) read the tenant's chain; vendor admins read the vendor chain.
// Pages are read from the read replica where there is one (DATABASE_READ_URL), once it has
// caught up with the primary: a change made a moment ago shows on the next page.

export type TrailOptions = { filter?: AuditFilter; before?: AuditCursor; limit?: number };

async function requireTenantReader(caller: Caller, tenantId: string): Promise<void> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
}

async function requireVendorReader(caller: Caller): Promise<void> {
  const standing = await standingOf(getDb(), caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see the vendor audit trail.");
}

async function page(chain: string, options: TrailOptions): Promise<AuditPage> {
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  await replicaCaughtUp();
  return queryAuditPage(chain, options.filter ?? {}, { before: options.before, limit });
}

/** A tenant's events through a filter, newest first, a page at a time (keyset: fast at any depth). */
export async function listTenantEvents(caller: Caller, tenantId: string, options: TrailOptions = {}): Promise<AuditPage> {
  await requireTenantReader(caller, tenantId);
  return page(tenantId, options);
}

/** The vendor chain (vendor-admin grants, vendor sign-ins, refused sign-ins, credentials), for vendor admins. */
export async function listVendorEvents(caller: Caller, options: TrailOptions = {}): Promise<AuditPage> {
  await requireVendorReader(caller);
  return page(VENDOR_CHAIN, options);
}

/** Where a page opens and what a detail view shows, for one event of a chain the caller may read. */
export type EventFocus = { event: AuditEvent; cursor: AuditCursor } | null;

async function focus(chain: string, seq: bigint): Promise<EventFocus> {
  await replicaCaughtUp();
  const [event, cursor] = await Promise.all([findChainEvent(chain, seq), cursorAt(chain, seq)]);
  return event && cursor ? { event, cursor } : null;
}

/** One event of the tenant's chain by seq (null when there is none: pruned, or never existed). */
export async function tenantEvent(caller: Caller, tenantId: string, seq: bigint): Promise<EventFocus> {
  await requireTenantReader(caller, tenantId);
  return focus(tenantId, seq);
}

export async function vendorEvent(caller: Caller, seq: bigint): Promise<EventFocus> {
  await requireVendorReader(caller);
  return focus(VENDOR_CHAIN, seq);
}

/** The tenant chain's head seq, where a live view starts. */
export async function tenantHeadSeq(caller: Caller, tenantId: string): Promise<bigint> {
  await requireTenantReader(caller, tenantId);
  // From where the page is read, so its live view starts where the page ends.
  await replicaCaughtUp();
  return chainHeadSeq(tenantId, getReadDb());
}
