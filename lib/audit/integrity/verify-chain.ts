import "server-only";
import pg from "pg";
import { getConfig } from "@/lib/config";
import { getDb, getReadDb } from "@/lib/db";
import type { PrismaClient } from "@/lib/db/generated/client";
import { CONNECT_TIMEOUT_MS, connectionString } from "@/lib/db/pool";
import { replicaCaughtUp } from "@/lib/db/read-replica";
import { errorFields, log } from "@/lib/log";
import { AUDIT_ACTIONS, VENDOR_CHAIN } from "../actions";
import { checkpointStatement, statementSignatureValid } from "./checkpoint-statement";
import { type ChainBreak, type ChainEvent, GENESIS_HASH, verifyChain } from "../trail/chain";
import {
  type ChainRepresentation,
  type Conversion,
  convertEvent,
  EVENT_COLUMNS_SQL,
  EVENT_FIELDS,
  type EventFieldsAs,
  type RowRepresentation,
  same,
  TEXT_AS_IS,
} from "../trail/event-fields";
import { explainChainBreak } from "./explain-break";
import type { SigningKey } from "./signing-key";
import { deploymentTrustedPublicKeys, type TrustedKey } from "./trusted-keys";

// The one integrity check, used by `npm run audit:verify` and the console's integrity page.
// The head, the anchor, the checkpoints and whatever lies beyond the head are read in one short
// read-only REPEATABLE READ transaction; the events up to that head are then read in keyset
// batches by seq, each its own statement. No snapshot is held for the minutes a large trail
// takes (one would hold back vacuum for the whole database meanwhile), and none is needed:
// events up to the head are append-only, appends land beyond it and are not counted, and the
// only delete, retention's, waits for the shared advisory lock this check holds on the chain
// (pruneChain takes it exclusively and skips a chain being verified). Memory stays bounded by
// the batch (a tenant may have ten million events); the next batch is fetched while the current
// one is hashed.

const BATCH = 5_000;
const logger = log.child({ component: "audit-verify" });

export type IntegrityProgress = { checked: number; total: number };

export type CheckpointRef = { id: bigint; seq: bigint; signedAt: Date; keyId: string };

export type IntegrityBreak = {
  /** Where the trail is first wrong. */
  seq: bigint;
  /** The database id of the event found there, if one is. */
  eventId: bigint | null;
  /**
   * edited / deleted / reordered: what happened to the events at `seq`. rewritten: the events
   * are consistent among themselves but disagree with a signed checkpoint (history was
   * recomputed after an edit), or a checkpoint itself was forged or altered.
   */
  kind: "edited" | "deleted" | "reordered" | "rewritten";
  message: string;
  /** The checkpoint that caught it, when one did. */
  checkpoint?: CheckpointRef;
  /** The plain chain check's finding, when it was one. */
  chainBreak?: ChainBreak;
};

type Common = {
  chain: string;
  /** Seq and hash of the recorded head when the check began (seq 0 and null: empty trail). */
  headSeq: bigint;
  headHash: string | null;
  /** Where the chain starts after pruning; null if it was never pruned. */
  anchor: { seq: bigint; hash: string } | null;
  /** Events the check had to read: head seq minus anchor seq. */
  total: number;
  /** Checkpoints compared with the trail, and whether their signatures were checked too. */
  checkpoints: { checked: number; beforeAnchor: number; signaturesChecked: boolean };
};

/** `events`: how many events were found intact (all of them, or those before the break). */
export type IntegrityReport = Common & ({ intact: true; events: number } | { intact: false; events: number; break: IntegrityBreak });

export type VerifyOptions = {
  /** Called after each batch; a returned promise is awaited (backpressure for a slow reader). */
  onProgress?: (progress: IntegrityProgress) => void | Promise<void>;
  signal?: AbortSignal;
  /** The key checkpoints must be signed with; without one only their hashes are compared. */
  trustedKey?: Pick<SigningKey, "keyId" | "publicKey"> | null;
  /**
   * The deployment's previous signing keys, whose checkpoints are accepted too when a
   * trustedKey is given; by default those in AUDIT_TRUSTED_PUBLIC_KEYS (lib/audit/integrity/trusted-keys.ts).
   */
  previousKeys?: readonly TrustedKey[];
  batchSize?: number;
};

type Event = ChainEvent & { id: bigint };

// Rows come as arrays (no per-row object from the driver): the id, then EVENT_FIELDS in order.
type Row = unknown[];

const ROW_TO_CHAIN: Conversion<RowRepresentation, ChainRepresentation> = {
  ...TEXT_AS_IS,
  seq: (value) => BigInt(value),
  time: same,
  actorType: same,
  outcome: same,
  details: same,
};

function eventOf(row: Row): Event {
  const fields = Object.fromEntries(EVENT_FIELDS.map((field, i) => [field, row[i + 1]])) as EventFieldsAs<RowRepresentation>;
  return { id: BigInt(row[0] as string), ...convertEvent(fields, ROW_TO_CHAIN) };
}

const EVENTS_SQL = `
  SELECT id, ${EVENT_COLUMNS_SQL}
    FROM audit_events WHERE chain = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`;

export class VerificationCancelled extends Error {
  constructor(readonly checked: number) {
    super("verification cancelled");
  }
}

/** Where a run read the trail: the read replica (DATABASE_READ_URL), or the primary. */
export type IntegritySource = "replica" | "primary";

/** How long a run waits for the replica to replay what the primary had committed before it falls back to the primary. */
const REPLICA_WAIT_MS = 2_000;

async function connect(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection the database drops mid-run (a restart) must fail this run's next query, not
  // crash the process with an unhandled 'error' event.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * Verifies a whole chain (a tenant id, or "vendor"); see the file comment. Throws
 * VerificationCancelled on abort.
 *
 * With DATABASE_READ_URL set the trail is read from the replica: the lock that holds off
 * retention is taken on the primary first (retention runs there), then the run waits, up to
 * REPLICA_WAIT_MS, until the replica has replayed everything the primary had committed by then,
 * so the replica holds the whole range this run verifies and no prune of it can arrive during
 * the run. A replica further behind, unreachable, or that cancels a read for a conflict with
 * replay, and the run reads the primary instead. `onSource` says which was read.
 */
export async function verifyChainIntegrity(chain: string, options: VerifyOptions & { onSource?: (source: IntegritySource) => void } = {}): Promise<IntegrityReport> {
  const primary = await connect(connectionString(), "custody-audit-verify");
  try {
    // Held for the whole run (released with the connection): retention waits, appends do not.
    await primary.query("SELECT pg_advisory_lock_shared(hashtextextended($1, 0))", [`custody.audit_prune:${chain}`]);
    const replica = await replicaWithRange();
    if (replica) {
      try {
        options.onSource?.("replica");
        return await verifyOn(replica, chain, options, getReadDb());
      } catch (error) {
        if (!isReplayConflict(error)) throw error;
        logger.warn(errorFields(error), "the read replica cancelled an integrity check's read (conflict with replay); checking on the primary");
      } finally {
        await replica.end().catch(() => undefined);
      }
    }
    options.onSource?.("primary");
    return await verifyOn(primary, chain, options, getDb());
  } finally {
    await primary.end().catch(() => undefined);
  }
}

/** A connection to the replica once it has replayed what the primary committed before the call; null to read the primary. */
async function replicaWithRange(): Promise<pg.Client | null> {
  const readUrl = getConfig().DATABASE_READ_URL;
  if (!readUrl) return null;
  try {
    if (!(await replicaCaughtUp(REPLICA_WAIT_MS))) return null;
    return await connect(readUrl, "custody-audit-verify");
  } catch (error) {
    logger.warn(errorFields(error), "the read replica cannot be read for an integrity check; checking on the primary");
    return null;
  }
}

/** PostgreSQL's "canceling statement due to conflict with recovery" on a hot standby. */
function isReplayConflict(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "40001";
}

async function verifyOn(client: pg.Client, chain: string, options: VerifyOptions, db: PrismaClient): Promise<IntegrityReport> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  let open = true;
  const endSnapshot = async () => {
    if (open) await client.query("COMMIT");
    open = false;
  };
  try {
    return await verifyFromHead(client, chain, options, endSnapshot, db);
  } finally {
    await endSnapshot();
  }
}

async function verifyFromHead(client: pg.Client, chain: string, options: VerifyOptions, endSnapshot: () => Promise<void>, db: PrismaClient): Promise<IntegrityReport> {
  const batch = options.batchSize ?? BATCH;
  const { rows: heads } = await client.query<{ seq: string | null; head_hash: string | null; anchor_seq: string | null; anchor_hash: string | null }>(
    `SELECT c.seq, c.head_hash, a.seq AS anchor_seq, a.hash AS anchor_hash
       FROM (SELECT $1::text AS chain) x
       LEFT JOIN audit_chains c ON c.chain = x.chain
       LEFT JOIN audit_anchors a ON a.chain = x.chain`,
    [chain],
  );
  const head = heads[0]!;
  const headSeq = head.seq === null ? 0n : BigInt(head.seq);
  const headHash = head.head_hash;
  const anchor = head.anchor_seq === null ? null : { seq: BigInt(head.anchor_seq), hash: head.anchor_hash! };
  const startSeq = anchor?.seq ?? 0n;
  const total = Number(headSeq > startSeq ? headSeq - startSeq : 0n);

  const { rows: checkpointRows } = await client.query<{ id: string; seq: string; head_hash: string; signed_at: Date; key_id: string; signature: Buffer }>(
    "SELECT id, seq, head_hash, signed_at, key_id, signature FROM audit_checkpoints WHERE chain = $1 ORDER BY seq",
    [chain],
  );
  const { rows: extra } = await client.query<{ id: string; seq: string }>(
    "SELECT id, seq FROM audit_events WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT 1",
    [chain, headSeq.toString()],
  );
  // Everything that had to be one snapshot is read; the events up to the head are immutable.
  await endSnapshot();
  const trustedKey = options.trustedKey ?? null;
  const keys = new Map<string, TrustedKey>();
  if (trustedKey) {
    for (const previous of options.previousKeys ?? deploymentTrustedPublicKeys()) keys.set(previous.keyId, previous);
    keys.set(trustedKey.keyId, trustedKey);
  }
  const checkpoints = { checked: 0, beforeAnchor: 0, signaturesChecked: trustedKey !== null };
  const common = (): Common => ({ chain, headSeq, headHash, anchor, total, checkpoints });
  const broken = (events: number, found: IntegrityBreak): IntegrityReport => ({ ...common(), intact: false, events, break: found });

  // A checkpoint whose signature fails was forged or altered: nothing it says can be trusted.
  const pending: Array<{ ref: CheckpointRef; headHash: string }> = [];
  for (const row of checkpointRows) {
    const ref: CheckpointRef = { id: BigInt(row.id), seq: BigInt(row.seq), signedAt: row.signed_at, keyId: row.key_id };
    if (trustedKey) {
      const statement = checkpointStatement({ chain, seq: ref.seq, headHash: row.head_hash, signedAt: ref.signedAt, keyId: ref.keyId });
      const signer = keys.get(ref.keyId);
      const problem = !signer
        ? `was signed by key ${ref.keyId}, not by this deployment's key ${trustedKey.keyId}` +
          (keys.size > 1 ? " nor by one of its trusted previous keys (AUDIT_TRUSTED_PUBLIC_KEYS)" : "")
        : !statementSignatureValid(statement, row.signature, signer.publicKey)
            ? "does not carry a valid signature for what it states"
            : null;
      if (problem) {
        return broken(0, {
          seq: ref.seq,
          eventId: null,
          kind: "rewritten",
          checkpoint: ref,
          message: `Checkpoint ${ref.id} (for event #${ref.seq}, signed ${ref.signedAt.toISOString()}) ${problem}: checkpoints were tampered with.`,
        });
      }
    }
    if (ref.seq < startSeq) checkpoints.beforeAnchor++;
    else pending.push({ ref, headHash: row.head_hash });
  }

  // The head only ever grows: a signed checkpoint beyond it means the newest events were removed
  // and the head wound back.
  const beyond = pending.find((c) => c.ref.seq > headSeq);
  if (beyond) {
    return broken(0, {
      seq: headSeq + 1n,
      eventId: null,
      kind: "deleted",
      checkpoint: beyond.ref,
      message: `Checkpoint ${beyond.ref.id} (signed ${beyond.ref.signedAt.toISOString()}) vouches for event #${beyond.ref.seq}, but the trail now ends at #${headSeq}: events after #${headSeq} were deleted and the head rewound.`,
    });
  }

  // Retention never prunes past the newest signed checkpoint (and the database refuses an anchor
  // beyond it), so a genuine anchor always has a checkpoint at or after it, which the walk below
  // compares with the events linking it to the anchor. Without one, nothing signed says the
  // events behind the anchor were ever pruned rather than simply deleted.
  const newestBeforeAnchor = checkpointRows.length > 0 && pending.length === 0 ? BigInt(checkpointRows[checkpointRows.length - 1]!.seq) : null;
  const anchorVouchedFor = anchor === null || pending.length > 0;

  let start = { prevHash: anchor?.hash ?? GENESIS_HASH, seq: startSeq };
  let checked = 0;
  let lastGoodCheckpoint: bigint = startSeq;
  let anchorAccountedFor = anchor === null;
  const checkpointAt = (seq: bigint, hash: string, eventId: bigint | null): IntegrityBreak | null => {
    while (pending.length > 0 && pending[0]!.ref.seq <= seq) {
      const next = pending.shift()!;
      if (next.ref.seq !== seq) continue; // unreachable on a contiguous chain, which the chain check ensures
      checkpoints.checked++;
      if (next.headHash === hash) {
        lastGoodCheckpoint = next.ref.seq;
        continue;
      }
      const range = lastGoodCheckpoint + 1n < next.ref.seq ? `between #${lastGoodCheckpoint + 1n} and #${next.ref.seq}` : `#${next.ref.seq}`;
      return {
        seq: next.ref.seq,
        eventId,
        kind: "rewritten",
        checkpoint: next.ref,
        message: `History was rewritten: checkpoint ${next.ref.id}, signed ${next.ref.signedAt.toISOString()}, vouches that event #${next.ref.seq} had hash ${next.headHash}, but the trail now has ${hash}. An event ${range} was changed and every later hash recomputed.`,
      };
    }
    return null;
  };

  // A checkpoint exactly at the anchor is compared with the anchor's hash.
  if (anchor) {
    const atAnchor = checkpointAt(anchor.seq, anchor.hash, null);
    if (atAnchor) return broken(0, atAnchor);
  }

  // A seq range rather than LIMIT: each batch reads at most `batch` rows whatever plan the
  // planner picks (with stale statistics it may choose a bitmap scan that reads the rest of
  // the chain and sorts it, per batch). A hole in the range is a deletion either way.
  const fetchBatch = (after: bigint) => {
    const upTo = after + BigInt(batch) < headSeq ? after + BigInt(batch) : headSeq;
    return client.query<Row>({ text: EVENTS_SQL, values: [chain, after.toString(), upTo.toString()], rowMode: "array" });
  };
  let next = start.seq < headSeq ? fetchBatch(start.seq) : null;
  while (next) {
    const rows = (await next).rows;
    if (rows.length === 0) break;
    const events = rows.map(eventOf);
    const last = events[events.length - 1]!;
    // Fetch ahead while this batch is hashed.
    next = last.seq < headSeq ? fetchBatch(last.seq) : null;
    next?.catch(() => undefined);

    const chainBreak = verifyChain(events, start);
    const upTo = chainBreak ? events.findIndex((e) => e.seq >= chainBreak.seq) : events.length;
    for (const event of events.slice(0, upTo)) {
      const caught = checkpointAt(event.seq, event.hash, event.id);
      if (caught) {
        await next?.catch(() => undefined);
        return broken(Number(event.seq - startSeq - 1n), caught);
      }
      if (!anchorAccountedFor && event.action === AUDIT_ACTIONS.auditPruned) anchorAccountedFor = prunedThrough(event.details, anchor!);
    }
    if (chainBreak) {
      await next?.catch(() => undefined);
      const explained = await explainChainBreak(chain, chainBreak, anchor, db);
      return broken(Number(chainBreak.seq - startSeq - 1n), { ...explained, chainBreak });
    }
    checked += events.length;
    start = { prevHash: last.hash, seq: last.seq };
    await options.onProgress?.({ checked, total });
    if (options.signal?.aborted) {
      await next?.catch(() => undefined);
      throw new VerificationCancelled(checked);
    }
  }

  // The trail must end exactly at the recorded head: a missing tail is a deletion, a different
  // last hash means the head record or the last event was altered.
  if (start.seq < headSeq) {
    const chainBreak: ChainBreak = { seq: start.seq + 1n, reason: "sequence_gap" };
    const explained = await explainChainBreak(chain, chainBreak, anchor, db);
    return broken(checked, { ...explained, chainBreak });
  }
  if (headSeq > startSeq && start.prevHash !== headHash) {
    return broken(checked - 1, {
      seq: headSeq,
      eventId: null,
      kind: "edited",
      message: `The recorded head of the trail (event #${headSeq}, hash ${headHash}) does not match the stored event #${headSeq} (hash ${start.prevHash}): the head record or the trail was altered.`,
    });
  }
  if (extra[0]) {
    return broken(checked, {
      seq: BigInt(extra[0].seq),
      eventId: BigInt(extra[0].id),
      kind: "edited",
      message: `Event #${extra[0].seq} lies beyond the recorded head (#${headSeq}): it was added outside Custody, or the head record was wound back.`,
    });
  }
  if (!anchorAccountedFor) {
    return broken(0, {
      seq: anchor!.seq,
      eventId: null,
      kind: "deleted",
      message: `Events up to #${anchor!.seq} are gone, and no retention prune recorded in the trail accounts for their removal.`,
    });
  }
  if (!anchorVouchedFor) {
    return broken(0, {
      seq: anchor!.seq,
      eventId: null,
      kind: "deleted",
      message:
        `Events up to #${anchor!.seq} were removed behind a retention anchor that no signed checkpoint vouches for ` +
        `(${newestBeforeAnchor === null ? "the trail has no checkpoint" : `the newest checkpoint is for event #${newestBeforeAnchor}`}, and retention never prunes past the newest checkpoint): ` +
        "they were deleted outside Custody's retention.",
    });
  }
  return { ...common(), intact: true, events: checked };
}

function prunedThrough(details: unknown, anchor: { seq: bigint; hash: string }): boolean {
  if (!details || typeof details !== "object") return false;
  const d = details as Record<string, unknown>;
  return String(d.throughSeq) === anchor.seq.toString() && d.anchorHash === anchor.hash;
}

/** `events`: how many events were verified intact (all of them, or those before the break). */
export type ChainReport = { events: number; intact: true } | { events: number; intact: false; break: ChainBreak };

/**
 * The plain chain check in its original shape (intact, or the first ChainBreak), for callers
 * that only need a yes or no; a checkpoint failure is reported as a hash mismatch at its seq.
 */
export async function verifyStoredChain(tenantId: string | null): Promise<ChainReport> {
  const report = await verifyChainIntegrity(tenantId ?? VENDOR_CHAIN);
  if (report.intact) return { events: report.events, intact: true };
  return { events: report.events, intact: false, break: report.break.chainBreak ?? { seq: report.break.seq, reason: "hash_mismatch" } };
}
