import "server-only";
import { getDb } from "@/lib/db";
import { type ChainBreak, hashEvent } from "../trail/chain";
import { chainedFieldsOf } from "../trail/stored";

/** A broken link in plain words: which event, and whether it was edited, deleted or moved. */
export type BreakExplanation = {
  seq: bigint;
  /** The database id of the event found at the break, if one is there. */
  eventId: bigint | null;
  kind: "edited" | "deleted" | "reordered";
  message: string;
};

/**
 * Looks closer at the first break the chain check found (lib/audit/integrity/verify-chain.ts). An event whose contents no longer
 * hash to its stored hash was edited, unless its stored link points at an event that now sits
 * elsewhere in the chain (then events were swapped); a self-consistent event that does not
 * follow its predecessor was moved; a hole in the numbering, or a head ahead of the last
 * event, means events were deleted.
 */
export async function explainChainBreak(
  chain: string,
  broken: ChainBreak,
  anchor: { seq: bigint; hash: string } | null = null,
): Promise<BreakExplanation> {
  const db = getDb();
  const event = await db.auditEvent.findFirst({ where: { chain, seq: broken.seq } });

  if (!event || broken.reason === "sequence_gap") {
    // Either an event sits at the break and the numbers before it are missing, or the trail
    // ends before the head says it should (a deleted tail).
    let from = broken.seq;
    let to = broken.seq;
    if (event) {
      const before = await db.auditEvent.findFirst({ where: { chain, seq: { lt: broken.seq } }, orderBy: { seq: "desc" }, select: { seq: true } });
      from = (before?.seq ?? anchor?.seq ?? 0n) + 1n;
      to = broken.seq - 1n;
    } else {
      const next = await db.auditEvent.findFirst({ where: { chain, seq: { gt: broken.seq } }, orderBy: { seq: "asc" }, select: { seq: true } });
      const head = await db.auditChain.findUnique({ where: { chain }, select: { seq: true } });
      to = next ? next.seq - 1n : (head?.seq ?? broken.seq);
    }
    const range = to > from ? `Events #${from} to #${to} are` : `Event #${from} is`;
    return { seq: from, eventId: null, kind: "deleted", message: `${range} missing: deleted from the trail.` };
  }

  const fields = chainedFieldsOf(event);
  const selfConsistent = hashEvent(fields.prevHash, fields) === fields.hash;
  if (anchor && broken.seq === anchor.seq + 1n && broken.reason === "prev_hash_mismatch" && selfConsistent) {
    return {
      seq: broken.seq,
      eventId: event.id,
      kind: "edited",
      message: `Event #${broken.seq} does not follow the retention anchor (the recorded hash of the last pruned event, #${anchor.seq}): the anchor was altered.`,
    };
  }
  const original = await db.auditEvent.findFirst({ where: { chain, hash: fields.prevHash }, select: { seq: true } });
  const predecessorMoved = original !== null && original.seq !== broken.seq - 1n;

  if (!selfConsistent && !predecessorMoved) {
    return { seq: broken.seq, eventId: event.id, kind: "edited", message: `Event #${broken.seq} was edited: its contents no longer match its hash.` };
  }
  return {
    seq: broken.seq,
    eventId: event.id,
    kind: "reordered",
    message: predecessorMoved
      ? `Event #${broken.seq} is out of place: it was written after event #${original.seq}, which now sits elsewhere (events were reordered).`
      : `Event #${broken.seq} does not follow the event before it: events were reordered or one was replaced.`,
  };
}
