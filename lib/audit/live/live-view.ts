import "server-only";
import { getDb } from "@/lib/db";
import { hashSessionToken } from "@/lib/db/session-token";
import { AppError } from "@/lib/errors";
import { type Caller, grantsAccess } from "@/lib/authz";
import { readRequestFilter } from "../query/request-filter";
import { type AuditLiveHub, getAuditLiveHub } from "./live-hub";
import { auditEventStream } from "./live-stream";
import { chainHeadSeq } from "../query/query";

// A member's live view of their tenant's trail (GET /t/<slug>/audit/stream). Everything that
// can refuse happens before the first byte: membership (a non-member and an unknown slug get
// the same 404), the filter, the resume position. The chain is the tenant the membership
// names; nothing in the request can point the stream at another chain.
//
// A stream outlives the request that opened it, so it re-checks that the person is still a
// member with a live session before it sends anything, at most RECHECK_MS after the last check:
// a removed member or a signed-out session stops receiving, and the stream ends.

const NOT_FOUND = "No such tenant.";
const MAX_SEQ = 9_223_372_036_854_775_807n;
/** Streams one person may hold open in one process (a few tabs). */
export const MAX_STREAMS_PER_USER = 8;
const RECHECK_MS = 5_000;

const globalForViews = globalThis as unknown as { custodyLiveViewsPerUser?: Map<string, number> };
const perUser = (globalForViews.custodyLiveViewsPerUser ??= new Map());

export type LiveAuditViewOptions = {
  /** The browser's Last-Event-ID header on an automatic reconnect; wins over `after`. */
  lastEventId: string | null;
  /** The session cookie's value: the stream ends when that session does. */
  sessionToken: string | null;
  signal: AbortSignal;
  hub?: AuditLiveHub;
  heartbeatMs?: number;
  /** How stale the "still a member, still signed in" answer may be. */
  recheckMs?: number;
};

function readPosition(value: string | null, name: string): bigint | null {
  if (value === null) return null;
  const trimmed = value.trim();
  const seq = /^\d{1,19}$/.test(trimmed) ? BigInt(trimmed) : null;
  if (seq === null || seq > MAX_SEQ) {
    throw new AppError("bad_request", `${name} must be an event number (a whole number, 0 for the start of the trail).`, {
      after: ["Not an event number."],
    });
  }
  return seq;
}

async function stillAllowed(userId: string, tenantId: string, sessionToken: string | null): Promise<boolean> {
  const [membership, session] = await Promise.all([
    getDb().membership.findFirst({ where: { userId, tenantId, ...grantsAccess() }, select: { id: true } }),
    sessionToken
      ? getDb().session.findFirst({ where: { sessionToken: hashSessionToken(sessionToken), userId, expires: { gt: new Date() } }, select: { id: true } })
      : null,
  ]);
  return membership !== null && session !== null;
}

/** Opens the live stream of tenant `slug`'s trail for `caller`, or refuses (404, 400, 503). */
export async function openLiveAuditView(
  caller: Caller,
  slug: string,
  params: URLSearchParams,
  options: LiveAuditViewOptions,
): Promise<ReadableStream<Uint8Array>> {
  // Membership first, so a non-member learns nothing from the parameter checks either.
  const tenant = await getDb().tenant.findFirst({
    where: { slug, memberships: { some: { userId: caller.userId, ...grantsAccess() } } },
    select: { id: true },
  });
  if (!tenant) throw new AppError("not_found", NOT_FOUND);

  const filter = readRequestFilter(params, "The live view's filter");
  const fromHeader = readPosition(options.lastEventId, "Last-Event-ID");
  const resumeFrom = fromHeader ?? readPosition(params.get("after"), "after");
  const head = await chainHeadSeq(tenant.id);
  if (resumeFrom !== null && resumeFrom > head) {
    const name = fromHeader !== null ? "Last-Event-ID" : "after";
    throw new AppError("bad_request", `${name} is past the newest event of this trail (#${head}). Reload the page.`, {
      after: ["Past the newest event."],
    });
  }

  // The slot is taken in the same tick as the check: concurrent opens cannot all pass it.
  const open = perUser.get(caller.userId) ?? 0;
  if (open >= MAX_STREAMS_PER_USER) {
    throw new AppError("unavailable", `You have ${open} live views of the audit trail open. Close some tabs and try again.`);
  }
  perUser.set(caller.userId, open + 1);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const now = (perUser.get(caller.userId) ?? 1) - 1;
    if (now > 0) perUser.set(caller.userId, now);
    else perUser.delete(caller.userId);
  };

  let checkedAt = Date.now();
  let allowed = true;
  const authorize = async () => {
    if (allowed && Date.now() - checkedAt >= (options.recheckMs ?? RECHECK_MS)) {
      checkedAt = Date.now();
      allowed = await stillAllowed(caller.userId, tenant.id, options.sessionToken);
    }
    return allowed;
  };
  try {
    if (!(await stillAllowed(caller.userId, tenant.id, options.sessionToken))) throw new AppError("not_found", NOT_FOUND);
    return auditEventStream({
      hub: options.hub ?? getAuditLiveHub(),
      chain: tenant.id,
      filter,
      // With neither, the view starts at the head: live from now.
      after: resumeFrom ?? head,
      signal: options.signal,
      heartbeatMs: options.heartbeatMs,
      authorize,
      onClose: release,
    });
  } catch (error) {
    release();
    throw error;
  }
}
