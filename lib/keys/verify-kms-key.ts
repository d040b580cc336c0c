import "server-only";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { isUniqueViolation, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { isKmsError, keyRefOf, kmsClientFor, KMS_PROVIDERS, type KmsErrorKind } from "@/lib/kms";
import { errorFields, log } from "@/lib/log";
import { announceKeyState } from "./revocation-channel";
import { createTenantKey } from "./versions/create-tenant-key";
import { runVerifySteps, type VerifyOutcome, type VerifyStep } from "./verify-steps";

export type VerifyResult = {
  ok: boolean;
  steps: VerifyStep[];
  becamePrimary: boolean;
  accessRevoked: boolean;
  /** Round trips made (more than one while waiting for the KMS to apply a change). */
  attempts: number;
  /** The failure's KmsErrorKind (e.g. access_denied_vendor), or "unsuitable_key"; absent on success. */
  failure?: string;
};

/** Progress while verify waits for the KMS to apply the customer's new access. */
export type VerifyProgress = { attempt: number; remainingMs: number; failedStep: string; message: string };

export type VerifyOptions = {
  /**
   * How long to keep retrying a refusal that may only be AWS applying a change the customer
   * just made (a new grant or key-policy statement can take up to about five minutes).
   * 0 (the default): one attempt. The console passes PROPAGATION_WINDOW_MS.
   */
  propagationWindowMs?: number;
  /** Injected for tests: the clock (ms) and the wait between attempts. */
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onProgress?: (progress: VerifyProgress) => void;
  /** Stops waiting (the browser went away); the last attempt's result is recorded. */
  signal?: AbortSignal;
};

/** AWS: grants and key-policy changes usually apply within seconds, at most about five minutes. */
export const PROPAGATION_WINDOW_MS = 5 * 60_000;
/** Waits between attempts: soon at first, then every 15 s. */
const RETRY_DELAYS_MS = [3_000, 5_000, 10_000, 15_000];

/**
 * A refusal that may only be a change the customer made that the KMS has not applied yet (the
 * provider names the kinds: AWS, the customer's side refusing with no explicit Deny). Anything
 * else (no such key, disabled, an explicit deny, the vendor's own identity, credentials, quotas,
 * unsuitable key) waiting does not cure.
 */
function mayBePropagation(outcome: VerifyOutcome, retryOn: readonly KmsErrorKind[]): boolean {
  if (outcome.ok) return false;
  return isKmsError(outcome.error) && retryOn.includes(outcome.error.kind);
}

function failureKind(outcome: VerifyOutcome): string | undefined {
  if (outcome.ok) return undefined;
  return isKmsError(outcome.error) ? outcome.error.kind : "unsuitable_key";
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Loads a tenant's KMS key for a tenant admin (refusals audited), outside any KMS call. */
export async function keyForAdmin(caller: Caller, tenantId: string, kmsKeyId: string, action: AuditAction) {
  return tenantChange(caller, { tenantId, action, target: { type: "kms_key", id: kmsKeyId } }, async ({ tx }) => {
    const key = await tx.kmsKey.findFirst({ where: { id: kmsKeyId, tenantId } });
    if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
    return key;
  });
}

const IN_USE_ELSEWHERE = () =>
  new AppError("conflict", "This key is already in use with Custody and cannot be verified for this tenant. Use a key of your own.", {
    form: ["This key cannot be used here."],
  });

/**
 * Runs the live round trip against the tenant's KMS key and records it. Success creates a new
 * tenant key (wrapped by this KMS key) and makes this key the tenant's primary, unless the
 * tenant's access is revoked: then only the result is recorded, and restoring is a separate act.
 * A key another tenant has verified is refused before any KMS call (and the attempt audited).
 * A refusal that may be AWS still applying the customer's change is retried for up to
 * `propagationWindowMs`; the last attempt is what is recorded. A failure never changes the
 * key's state: it is recorded as the last attempt. The KMS calls run outside any transaction.
 */
export async function verifyKmsKey(caller: Caller, input: { tenantId: string; kmsKeyId: string }, options: VerifyOptions = {}): Promise<VerifyResult> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.keyVerified, target: { type: "kms_key", id: input.kmsKeyId } };
  const key = await tenantChange(caller, attempt, async ({ tx, deny }) => {
    const found = await tx.kmsKey.findFirst({ where: { id: input.kmsKeyId, tenantId: input.tenantId } });
    if (!found) throw new AppError("not_found", "That key is not registered for this tenant.");
    // A retired key is never used again (lib/keys/rotation/retire.ts).
    if (found.status === "RETIRED") throw deny("key retired", new AppError("conflict", "This key is retired and is never used again. Register a new key instead."));
    const elsewhere = await tx.kmsKey.findFirst({
      where: { provider: found.provider, keyRef: found.keyRef, tenantId: { not: input.tenantId }, status: { not: "PENDING_VERIFICATION" } },
      select: { id: true },
    });
    if (elsewhere) throw deny("key verified by another tenant", IN_USE_ELSEWHERE(), { type: "kms_key", id: found.id });
    return found;
  });

  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const window = options.propagationWindowMs ?? 0;
  const deadline = clock() + window;
  let attempts = 0;
  let outcome: VerifyOutcome;
  const keyRef = keyRefOf(key);
  const retryOn = KMS_PROVIDERS[keyRef.provider].verify.retryWhilePropagating;
  for (;;) {
    outcome = await runVerifySteps(kmsClientFor(keyRef), keyRef, input.tenantId);
    attempts += 1;
    const remainingMs = deadline - clock();
    if (outcome.ok || !mayBePropagation(outcome, retryOn) || remainingMs <= 0 || options.signal?.aborted) break;
    const wait = Math.min(RETRY_DELAYS_MS[Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1)]!, remainingMs);
    options.onProgress?.({
      attempt: attempts,
      remainingMs,
      failedStep: outcome.failedStep,
      message: outcome.steps.find((s) => !s.ok)?.message ?? "",
    });
    await sleep(wait, options.signal);
    if (options.signal?.aborted) break;
  }
  if (!outcome.ok && !("kind" in outcome.error)) log.error({ kmsKeyId: key.id, ...errorFields(outcome.error) }, "key verification failed unexpectedly");
  const failure = failureKind(outcome);

  try {
    return await tenantChange(caller, { ...attempt, target: { type: "kms_key", id: key.id } }, async ({ tx, record }) => {
      const tenant = await lockTenant(tx, input.tenantId);
      const accessRevoked = tenant.accessRevokedAt !== null;
      const now = new Date();

      if (!outcome.ok) {
        const lastError = outcome.steps.find((s) => !s.ok)?.message ?? null;
        await tx.kmsKey.update({
          where: { id: key.id },
          // The key keeps its state: a failed attempt is recorded as the last attempt, not as a state.
          data: { lastAttemptAt: now, lastAttemptOk: false, lastVerifySteps: outcome.steps, lastError, lastErrorAt: now, lastErrorKind: failure ?? null },
        });
        await record({ action: AUDIT_ACTIONS.keyVerifyFailed, outcome: "failure", details: { step: outcome.failedStep, reason: failure ?? "unknown", attempts } });
        return { ok: false, steps: outcome.steps, becamePrimary: false, accessRevoked, attempts, failure };
      }

      await tx.kmsKey.update({
        where: { id: key.id },
        data: {
          lastVerifiedAt: now,
          lastAttemptAt: now,
          lastAttemptOk: true,
          lastVerifySteps: outcome.steps,
          lastError: null,
          lastErrorAt: null,
          lastErrorKind: null,
          ...(accessRevoked || key.status !== "PENDING_VERIFICATION" ? {} : { status: "ACTIVE" }),
        },
      });
      await record({ details: { provider: key.provider, keyRef: key.keyRef, attempts } });
      if (accessRevoked) return { ok: true, steps: outcome.steps, becamePrimary: false, accessRevoked, attempts };

      await makePrimary(tx, input.tenantId, key.id, tenant.primaryKmsKeyId, outcome.wrappedTenantKey);
      await record({ action: AUDIT_ACTIONS.accessGranted, details: { provider: key.provider, keyRef: key.keyRef, primary: true } });
      return { ok: true, steps: outcome.steps, becamePrimary: true, accessRevoked, attempts };
    });
  } catch (error) {
    // Another tenant's verification of the same key committed first (the partial unique index).
    if (isUniqueViolation(error)) throw IN_USE_ELSEWHERE();
    throw error;
  }
}

/**
 * Locks the tenant row against other key changes. NO KEY UPDATE, not UPDATE: inserting an audit
 * event takes a KEY SHARE lock on its tenant (the foreign key), and an appender holding the
 * chain head must not wait on us while we wait on the chain head (a deadlock).
 */
export async function lockTenant(tx: Tx, tenantId: string) {
  const [tenant] = await tx.$queryRaw<Array<{ primary_kms_key_id: string | null; access_revoked_at: Date | null }>>`
    SELECT primary_kms_key_id, access_revoked_at FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`;
  if (!tenant) throw new AppError("not_found", "No such tenant.");
  return { primaryKmsKeyId: tenant.primary_kms_key_id, accessRevokedAt: tenant.access_revoked_at };
}

/** Stores the new tenant key and moves the tenant's primary to this KMS key; the old primary stays valid for unwraps. */
export async function makePrimary(tx: Tx, tenantId: string, kmsKeyId: string, previousPrimary: string | null, wrappedTenantKey: Buffer) {
  await createTenantKey(tx, { tenantId, kmsKeyId, wrappedKey: wrappedTenantKey });
  if (previousPrimary && previousPrimary !== kmsKeyId) {
    await tx.kmsKey.update({ where: { id: previousPrimary }, data: { status: "PREVIOUS" } });
  }
  await tx.kmsKey.update({ where: { id: kmsKeyId }, data: { status: "ACTIVE" } });
  await tx.tenant.update({ where: { id: tenantId }, data: { primaryKmsKeyId: kmsKeyId } });
  await announceKeyState(tx, tenantId);
}

export type { VerifyOutcome };
