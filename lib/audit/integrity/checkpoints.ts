import "server-only";
import { getDb, getReadDb, type Tx } from "@/lib/db";
import { replicaCaughtUp } from "@/lib/db/read-replica";
import { AppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { type Caller, standingOf, tenantChange } from "@/lib/authz";
import { AUDIT_ACTIONS } from "../actions";
import { type CheckpointDocument, checkpointDocument, checkpointStatement, signStatement } from "./checkpoint-statement";
import { deploymentSigningKey, type SigningKey } from "./signing-key";

// Signed checkpoints of chain heads: periodically for every chain whose head moved (the
// background job in lib/jobs), and on demand from a tenant's integrity page. A checkpoint is
// unique per (chain, seq), so instances signing the same head at once insert it once.

export type CheckpointView = { id: bigint; chain: string; seq: bigint; headHash: string; signedAt: Date; keyId: string };

function requireKey(): SigningKey {
  const key = deploymentSigningKey();
  if (!key) throw new AppError("unavailable", "This deployment has no checkpoint signing key configured (AUDIT_SIGNING_KEY).");
  return key;
}

// The signed statement is line-based ("chain: …", "head: …"): a chain id or head hash holding a
// newline or anything unexpected could make one statement read as another. Chain ids are
// tenant UUIDs or "vendor"; hashes are SHA-256 hex. Anything else is refused, not signed.
const SIGNABLE_CHAIN = /^[0-9a-z-]+$/;
const SIGNABLE_HASH = /^[0-9a-f]{64}$/;

/**
 * Signs the chain's current head, unless a checkpoint for it exists. Signs only a head that
 * matches its stored event: a head already inconsistent is logged, not vouched for.
 */
async function signHead(db: Tx, chain: string, key: SigningKey): Promise<{ checkpoint: CheckpointView; created: boolean } | null> {
  const [head] = await db.$queryRaw<Array<{ seq: bigint; head_hash: string; event_hash: string | null }>>`
    SELECT c.seq, c.head_hash, e.hash AS event_hash
      FROM audit_chains c LEFT JOIN audit_events e ON e.chain = c.chain AND e.seq = c.seq
     WHERE c.chain = ${chain}`;
  if (!head) return null;
  if (!SIGNABLE_CHAIN.test(chain) || !SIGNABLE_HASH.test(head.head_hash)) {
    log.error({ chain: JSON.stringify(chain).slice(0, 80), seq: head.seq.toString() }, "audit chain id or head hash is not in signable form; not signing a checkpoint");
    return null;
  }
  if (head.event_hash !== head.head_hash) {
    log.error({ chain, seq: head.seq.toString() }, "audit chain head does not match its event; not signing a checkpoint");
    return null;
  }
  const fields = { chain, seq: head.seq, headHash: head.head_hash, signedAt: new Date(), keyId: key.keyId };
  // signedAt is stored with millisecond precision, exactly as the statement states it.
  const signature = signStatement(checkpointStatement(fields), key.privateKey);
  const inserted = await db.$queryRaw<Array<{ id: bigint }>>`
    INSERT INTO audit_checkpoints (chain, seq, head_hash, signed_at, key_id, signature)
    VALUES (${chain}, ${fields.seq}, ${fields.headHash}, ${fields.signedAt}, ${fields.keyId}, ${signature})
    ON CONFLICT (chain, seq) DO NOTHING RETURNING id`;
  if (inserted[0]) return { checkpoint: { id: inserted[0].id, ...fields }, created: true };
  const existing = await db.auditCheckpoint.findUniqueOrThrow({ where: { chain_seq: { chain, seq: head.seq } } });
  return { checkpoint: viewOf(existing), created: false };
}

function viewOf(row: { id: bigint; chain: string; seq: bigint; headHash: string; signedAt: Date; keyId: string }): CheckpointView {
  return { id: row.id, chain: row.chain, seq: row.seq, headHash: row.headHash, signedAt: row.signedAt, keyId: row.keyId };
}

/** One pass of the periodic job: a checkpoint for every chain whose head moved since its last one. */
export async function signDueCheckpoints(key: SigningKey | null = deploymentSigningKey()): Promise<{ signed: number }> {
  if (!key) return { signed: 0 };
  const db = getDb();
  const due = await db.$queryRaw<Array<{ chain: string }>>`
    SELECT c.chain FROM audit_chains c
     WHERE c.seq > coalesce((SELECT max(k.seq) FROM audit_checkpoints k WHERE k.chain = c.chain), 0)`;
  let signed = 0;
  for (const { chain } of due) {
    const result = await db.$transaction((tx) => signHead(tx, chain, key));
    if (result?.created) signed++;
  }
  return { signed };
}

/** "Sign checkpoint now" on the integrity page: tenant admins and auditors; audited. */
export async function signCheckpointNow(caller: Caller, tenantId: string): Promise<CheckpointView> {
  const key = requireKey();
  const attempt = { tenantId, action: AUDIT_ACTIONS.checkpointSigned, target: { type: "audit_trail", id: tenantId }, roles: ["admin" as const, "auditor" as const] };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const result = await signHead(tx, tenantId, key);
    if (!result) throw new AppError("conflict", "There is nothing to sign: this trail has no events, or its head does not match its last event (run Verify integrity).");
    const { checkpoint } = result;
    await record({
      target: { type: "audit_checkpoint", id: checkpoint.id.toString() },
      details: { seq: checkpoint.seq.toString(), headHash: checkpoint.headHash, keyId: checkpoint.keyId },
    });
    return checkpoint;
  });
}

async function requireMember(caller: Caller, tenantId: string): Promise<void> {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("not_found", "Not found.");
}

/**
 * A tenant's newest checkpoints, for its members. Read from the read replica (DATABASE_READ_URL)
 * once it has what the primary had committed, so a checkpoint just signed is listed.
 */
export async function listCheckpoints(caller: Caller, tenantId: string, limit = 20): Promise<CheckpointView[]> {
  await requireMember(caller, tenantId);
  await replicaCaughtUp();
  const rows = await getReadDb().auditCheckpoint.findMany({ where: { chain: tenantId }, orderBy: { seq: "desc" }, take: Math.min(Math.max(limit, 1), 100) });
  return rows.map(viewOf);
}

/** One checkpoint as a downloadable document; another tenant's id is simply not found. */
export async function checkpointDocumentFor(caller: Caller, tenantId: string, id: bigint): Promise<CheckpointDocument> {
  await requireMember(caller, tenantId);
  const row = await getDb().auditCheckpoint.findFirst({ where: { id, chain: tenantId } });
  if (!row) throw new AppError("not_found", "That checkpoint does not exist in this tenant's trail.");
  return checkpointDocument(viewOf(row), row.signature);
}
