import "server-only";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { isKmsError, keyRefOf, kmsClientFor, type KeyRef } from "@/lib/kms";
import { errorFields, log } from "@/lib/log";
import { announceKeyState } from "../revocation-channel";
import { ROTATION_ACTOR, ROTATION_REQUEST } from "./shared";

// The worker: one tenant key at a time, Decrypt with the old KMS key, wrap with the new one,
// unwrap that with the new one to prove it works, then ONE row update that swaps the tenant
// key's wrapped form and KMS key and keeps the ones it replaced (previous_wrapped_key,
// previous_kms_key_id) until the rotation completes. The tenant key's id and material never
// change, so every EDEK made before keeps opening, whichever key wraps it at that moment.
//
// Crash-safety: a crash between the KMS calls and the commit leaves the row as it was (the next
// run re-wraps it again); after the commit the row is complete. A worker holds the rotation's
// lease (lease_owner, lease_until) and renews it every step; a worker that died (kill -9) stops
// renewing, and once the lease has run out any instance's job takes the rotation over. Every
// commit names the owner, so a worker whose lease was taken over commits nothing more. A KMS
// error stops the rotation as `failed` with the error in plain words; the admin resumes it or
// rolls it back (roll-back.ts, no KMS call).

const logger = log.child({ component: "key-rotation" });
const DEFAULT_LEASE_MS = 30_000;
const INSTANCE = `${os.hostname()}:${process.pid}`;

export type RunOptions = {
  /** How long a claim lasts without renewal (a crashed worker's rotation waits this long). */
  leaseMs?: number;
  /** Stops between tenant keys (shutdown): the lease is released for another instance. */
  signal?: AbortSignal;
  /** Who holds the lease (default: this process and run, so two runs in one process never share one). */
  owner?: string;
  /** Called after each committed re-wrap with the rotation's count so far (progress logs, tests). */
  onProgress?: (rewrapped: number) => void;
};

export type RunOutcome = "completed" | "failed" | "stopped" | "not_claimed";

type Claimed = { id: string; tenant_id: string; from_kms_key_id: string; to_kms_key_id: string };

async function claim(rotationId: string, owner: string, leaseMs: number): Promise<Claimed | null> {
  const rows = await getDb().$queryRaw<Claimed[]>`
    UPDATE kms_key_rotations
       SET lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
     WHERE id = ${rotationId}::uuid AND state = 'running'
       AND (lease_until IS NULL OR lease_until < now() OR lease_owner = ${owner})
     RETURNING id::text, tenant_id::text, from_kms_key_id::text, to_kms_key_id::text`;
  return rows[0] ?? null;
}

async function release(rotationId: string, owner: string): Promise<void> {
  await getDb().$executeRaw`
    UPDATE kms_key_rotations SET lease_owner = NULL, lease_until = NULL WHERE id = ${rotationId}::uuid AND lease_owner = ${owner}`;
}

async function keyRef(kmsKeyId: string): Promise<KeyRef> {
  return keyRefOf(await getDb().kmsKey.findUniqueOrThrow({ where: { id: kmsKeyId } }));
}

/** Marks the rotation stopped on an error (if this worker still holds it) and audits it. */
async function fail(rotation: Claimed, owner: string, kind: string, message: string): Promise<void> {
  await getDb().$transaction(async (tx) => {
    const updated = await tx.$executeRaw`
      UPDATE kms_key_rotations
         SET state = 'failed', last_error = ${message}, last_error_kind = ${kind}, lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = ${rotation.id}::uuid AND state = 'running' AND lease_owner = ${owner}`;
    if (updated === 0) return;
    const counts = await tx.kmsKeyRotation.findUniqueOrThrow({ where: { id: rotation.id }, select: { total: true, rewrapped: true } });
    await appendAuditEvent(tx, {
      tenantId: rotation.tenant_id,
      actor: ROTATION_ACTOR,
      action: AUDIT_ACTIONS.keyRotationFailed,
      target: { type: "kms_key_rotation", id: rotation.id },
      outcome: "failure",
      request: ROTATION_REQUEST,
      details: { reason: kind, rewrapped: counts.rewrapped, total: counts.total },
    });
  });
}

/** Nothing wraps under the old key any more: the previous forms are dropped and the rotation completes. */
async function complete(rotation: Claimed, owner: string): Promise<boolean> {
  return getDb().$transaction(async (tx) => {
    const updated = await tx.$executeRaw`
      UPDATE kms_key_rotations SET state = 'completed', finished_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = ${rotation.id}::uuid AND state = 'running' AND lease_owner = ${owner}`;
    if (updated === 0) return false;
    await tx.$executeRaw`
      UPDATE tenant_keys SET previous_wrapped_key = NULL, previous_kms_key_id = NULL
       WHERE tenant_id = ${rotation.tenant_id}::uuid AND previous_kms_key_id = ${rotation.from_kms_key_id}::uuid`;
    const counts = await tx.kmsKeyRotation.findUniqueOrThrow({ where: { id: rotation.id }, select: { total: true, rewrapped: true } });
    await appendAuditEvent(tx, {
      tenantId: rotation.tenant_id,
      actor: ROTATION_ACTOR,
      action: AUDIT_ACTIONS.keyRotationCompleted,
      target: { type: "kms_key_rotation", id: rotation.id },
      outcome: "success",
      request: ROTATION_REQUEST,
      details: { fromKmsKeyId: rotation.from_kms_key_id, toKmsKeyId: rotation.to_kms_key_id, rewrapped: counts.rewrapped, total: counts.total },
    });
    return true;
  });
}

type Next = { id: string; wrapped_key: Buffer };

/** Re-wraps one tenant key and commits it (one row update): the rotation's count, or null if the lease was lost (nothing committed). */
async function rewrapOne(rotation: Claimed, owner: string, next: Next, from: KeyRef, to: KeyRef): Promise<number | null> {
  const tenant = { tenantId: rotation.tenant_id };
  const toClient = kmsClientFor(to);
  if (!toClient.wrapTenantKey) throw new Error("the new key's provider cannot wrap an existing tenant key");
  const plaintext = await kmsClientFor(from).unwrapTenantKey(from, next.wrapped_key, tenant);
  let wrapped: Buffer;
  try {
    wrapped = await toClient.wrapTenantKey(to, plaintext, tenant);
    // Proves the new form opens before anything depends on it.
    const check = await toClient.unwrapTenantKey(to, wrapped, tenant);
    const same = check.equals(plaintext);
    check.fill(0);
    if (!same) throw new Error("the re-wrapped tenant key did not unwrap to the same key");
  } finally {
    plaintext.fill(0);
  }
  return getDb().$transaction(async (tx) => {
    // The rotation's row first: a roll back locks it too, so the two never interleave.
    const [held] = await tx.$queryRaw<Array<{ rewrapped: number }>>`
      SELECT rewrapped FROM kms_key_rotations
       WHERE id = ${rotation.id}::uuid AND state = 'running' AND lease_owner = ${owner} FOR UPDATE`;
    if (!held) return null;
    const swapped = await tx.$executeRaw`
      UPDATE tenant_keys
         SET previous_wrapped_key = wrapped_key, previous_kms_key_id = kms_key_id,
             wrapped_key = ${new Uint8Array(wrapped)}, kms_key_id = ${rotation.to_kms_key_id}::uuid
       WHERE id = ${next.id}::uuid AND kms_key_id = ${rotation.from_kms_key_id}::uuid AND status = 'active'`;
    if (swapped === 0) return held.rewrapped;
    const [counted] = await tx.$queryRaw<Array<{ rewrapped: number }>>`
      UPDATE kms_key_rotations SET rewrapped = rewrapped + 1, updated_at = now() WHERE id = ${rotation.id}::uuid RETURNING rewrapped`;
    // Every instance re-reads the tenant's key state: the next lease unwraps with the new key.
    await announceKeyState(tx, rotation.tenant_id);
    return counted!.rewrapped;
  });
}

/**
 * Works one rotation to its end (completed), to a KMS error (failed), or until `signal` stops
 * it. Returns "not_claimed" when another worker holds it or it is not running.
 */
export async function runRotation(rotationId: string, options: RunOptions = {}): Promise<RunOutcome> {
  const owner = options.owner ?? `${INSTANCE}:${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const rotation = await claim(rotationId, owner, leaseMs);
  if (!rotation) return "not_claimed";
  const [from, to] = await Promise.all([keyRef(rotation.from_kms_key_id), keyRef(rotation.to_kms_key_id)]);
  for (;;) {
    if (options.signal?.aborted) {
      await release(rotation.id, owner);
      return "stopped";
    }
    if (!(await claim(rotation.id, owner, leaseMs))) return "stopped";
    const tenant = await getDb().tenant.findUniqueOrThrow({ where: { id: rotation.tenant_id }, select: { accessRevokedAt: true } });
    if (tenant.accessRevokedAt) {
      await fail(rotation, owner, "access_revoked", "Vendor access was revoked: restore it, then resume the rotation.");
      return "failed";
    }
    const [next] = await getDb().$queryRaw<Next[]>`
      SELECT id::text, wrapped_key FROM tenant_keys
       WHERE tenant_id = ${rotation.tenant_id}::uuid AND kms_key_id = ${rotation.from_kms_key_id}::uuid AND status = 'active'
       ORDER BY created_at, id LIMIT 1`;
    if (!next) {
      if (await complete(rotation, owner)) {
        logger.info({ rotationId: rotation.id, tenantId: rotation.tenant_id }, "KMS key rotation completed");
        return "completed";
      }
      return "stopped";
    }
    try {
      const rewrapped = await rewrapOne(rotation, owner, next, from, to);
      if (rewrapped === null) return "stopped";
      options.onProgress?.(rewrapped);
    } catch (error) {
      if (isKmsError(error)) {
        await fail(rotation, owner, error.kind, error.message);
      } else {
        logger.error({ rotationId: rotation.id, ...errorFields(error) }, "re-wrapping a tenant key failed unexpectedly");
        await fail(rotation, owner, "unexpected", "Custody could not re-wrap a tenant key (an unexpected error). Nothing was lost: resume or roll back.");
      }
      return "failed";
    }
  }
}

/** Starts a rotation's work in this process without waiting (the console's start and resume). */
export function runRotationInBackground(rotationId: string): void {
  runRotation(rotationId).catch((error: unknown) => {
    // The lease runs out and the background job takes the rotation over.
    logger.error({ rotationId, ...errorFields(error) }, "key rotation worker stopped; the background job resumes it");
  });
}

/**
 * The background job: every running rotation no live worker holds (none started it here, or
 * its worker died) is claimed and worked, one after another.
 */
export async function resumeRunningRotations(options: RunOptions = {}): Promise<{ completed: number; failed: number }> {
  const open = await getDb().$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM kms_key_rotations WHERE state = 'running' AND (lease_until IS NULL OR lease_until < now()) ORDER BY started_at`;
  let completed = 0;
  let failed = 0;
  for (const { id } of open) {
    if (options.signal?.aborted) break;
    const outcome = await runRotation(id, options);
    if (outcome === "completed") completed++;
    if (outcome === "failed") failed++;
  }
  return { completed, failed };
}
