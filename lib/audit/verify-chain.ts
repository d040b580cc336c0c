import "server-only";
import { getDb } from "@/lib/db";
import { VENDOR_CHAIN } from "./actions";
import { type ChainBreak, GENESIS_HASH, verifyChain } from "./chain";
import { chainedFieldsOf } from "./stored";

const PAGE = 2_000;

/** `events`: how many events were verified intact (all of them, or those before the break). */
export type ChainReport = { events: number; intact: true } | { events: number; intact: false; break: ChainBreak };

/**
 * Re-computes a tenant's chain from the database, page by page, and checks it ends at the
 * recorded head, so a deleted tail is caught as well as an edited or missing event.
 */
export async function verifyStoredChain(tenantId: string | null): Promise<ChainReport> {
  const chain = tenantId ?? VENDOR_CHAIN;
  const db = getDb();
  let start = { prevHash: GENESIS_HASH, seq: 0n };
  let count = 0;
  for (;;) {
    const page = await db.auditEvent.findMany({
      where: { chain, seq: { gt: start.seq } },
      orderBy: { seq: "asc" },
      take: PAGE,
    });
    if (page.length === 0) break;
    const broken = verifyChain(page.map(chainedFieldsOf), start);
    if (broken) return { events: Number(broken.seq - 1n), intact: false, break: broken };
    const last = page[page.length - 1]!;
    start = { prevHash: last.hash, seq: last.seq };
    count += page.length;
  }
  const head = await db.auditChain.findUnique({ where: { chain } });
  const headSeq = head?.seq ?? 0n;
  if (headSeq !== start.seq || (head && head.headHash !== start.prevHash)) {
    return { events: count, intact: false, break: { seq: start.seq + 1n, reason: "sequence_gap" } };
  }
  return { events: count, intact: true };
}
