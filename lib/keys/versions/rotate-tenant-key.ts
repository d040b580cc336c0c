import "server-only";
import { type Actor, AUDIT_ACTIONS, appendAuditEvent, recordAuditEvent } from "@/lib/audit";
import { type Caller, tenantChange } from "@/lib/authz";
import { getDb, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import { announceKeyState } from "../revocation-channel";
import { lockTenant } from "../verify-kms-key";
import { createTenantKey } from "./create-tenant-key";
import { generateWrappedTenantKey } from "./generate-version";

// Rotating the tenant key: a new version, made under the tenant's primary KMS key, becomes
// current for wraps (and the target of rekeys) at once in every key-service instance (NOTIFY
// on commit); every older version keeps unwrapping until the tenant retires it.

export type RotateResult = { tenantKeyId: string; version: number };

const SCHEDULE_ACTOR: Actor = { type: "system", id: null, label: "key rotation schedule" };
const NO_REQUEST = { sourceIp: null, userAgent: null, requestId: null };

/** Rotate now: a tenant admin's request. KMS refusals are recorded as failures and answered. */
export async function rotateTenantKey(caller: Caller, input: { tenantId: string }): Promise<RotateResult> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.tenantKeyRotated, target: { type: "tenant", id: input.tenantId } };
  const { key, actor } = await tenantChange(caller, attempt, async ({ tx, actor, deny }) => {
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: input.tenantId }, include: { primaryKmsKey: true } });
    if (tenant.accessRevokedAt) throw deny("access revoked", new AppError("conflict", "Vendor access is revoked: restore it before rotating the tenant key."));
    if (!tenant.primaryKmsKey) throw deny("no primary key", new AppError("conflict", "This tenant has no verified KMS key yet; register and verify one first."));
    return { key: tenant.primaryKmsKey, actor };
  });

  const generated = await generateWrappedTenantKey(key, input.tenantId);
  if (!generated.ok) {
    await recordAuditEvent({
      tenantId: input.tenantId,
      actor,
      action: AUDIT_ACTIONS.tenantKeyRotated,
      target: { type: "kms_key", id: key.id },
      outcome: "failure",
      request: caller.request,
      details: { kmsKeyId: key.id, trigger: "manual", reason: generated.error.kind },
    });
    throw new AppError("conflict", `Your KMS did not make the new tenant key, so nothing changed: ${generated.error.message}`);
  }

  return tenantChange(caller, attempt, async ({ tx, deny, record }) => {
    const tenant = await lockTenant(tx, input.tenantId);
    if (tenant.accessRevokedAt) throw deny("access revoked", new AppError("conflict", "Vendor access was revoked meanwhile; nothing changed."));
    if (tenant.primaryKmsKeyId !== key.id) throw new AppError("conflict", "The tenant's primary KMS key changed meanwhile; nothing changed. Rotate again.");
    const created = await createTenantKey(tx, { tenantId: input.tenantId, kmsKeyId: key.id, wrappedKey: generated.wrapped });
    await record({ target: { type: "tenant_key", id: created.id }, details: { version: created.version, kmsKeyId: key.id, trigger: "manual" } });
    await announceKeyState(tx, input.tenantId);
    return { tenantKeyId: created.id, version: created.version };
  });
}

type DueRow = { tenant_id: string; kms_key_id: string; provider: string; key_ref: string; key_details: unknown };

/**
 * Tenants whose schedule is due at `now`: a schedule, access not revoked, a primary KMS key in
 * use, and no tenant key under that KMS key made within the schedule's days (the current version
 * is the newest of them).
 */
async function dueTenants(db: Tx | ReturnType<typeof getDb>, now: Date, tenantId?: string): Promise<DueRow[]> {
  return db.$queryRaw<DueRow[]>`
    SELECT t.id::text AS tenant_id, k.id::text AS kms_key_id, k.provider, k.key_ref, k.key_details
      FROM tenants t JOIN kms_keys k ON k.id = t.primary_kms_key_id AND k.tenant_id = t.id
     WHERE t.key_rotation_days IS NOT NULL AND t.access_revoked_at IS NULL AND k.status = 'active'
       AND (${tenantId ?? null}::uuid IS NULL OR t.id = ${tenantId ?? null}::uuid)
       AND NOT EXISTS (
             SELECT 1 FROM tenant_keys tk
              WHERE tk.tenant_id = t.id AND tk.kms_key_id = k.id AND tk.status = 'active' AND tk.retired_at IS NULL
                AND tk.created_at > ${now}::timestamptz - make_interval(days => t.key_rotation_days))
     ORDER BY t.id`;
}

export type ScheduledRotation = { rotated: number; failed: number };

/**
 * The rotation job (lib/jobs): a new version for every tenant whose current version is older
 * than its schedule at `now` (injected by tests). Each tenant is re-checked under its row lock
 * before the new version is stored, so two runners rotate a tenant once. A KMS refusal is
 * recorded as a failure in the tenant's trail and tried again at the next run.
 */
export async function rotateDueTenantKeys(options: { now?: Date; signal?: AbortSignal } = {}): Promise<ScheduledRotation> {
  const now = options.now ?? new Date();
  const result: ScheduledRotation = { rotated: 0, failed: 0 };
  for (const due of await dueTenants(getDb(), now)) {
    if (options.signal?.aborted) break;
    const key = { provider: due.provider, keyRef: due.key_ref, keyDetails: due.key_details as never };
    const generated = await generateWrappedTenantKey(key, due.tenant_id).catch((error: unknown) => {
      log.error({ tenantId: due.tenant_id, ...errorFields(error) }, "scheduled tenant-key rotation failed unexpectedly");
      return null;
    });
    if (!generated?.ok) {
      result.failed += 1;
      await recordAuditEvent({
        tenantId: due.tenant_id,
        actor: SCHEDULE_ACTOR,
        action: AUDIT_ACTIONS.tenantKeyRotated,
        target: { type: "kms_key", id: due.kms_key_id },
        outcome: "failure",
        request: NO_REQUEST,
        details: { kmsKeyId: due.kms_key_id, trigger: "schedule", reason: generated ? generated.error.kind : "unexpected" },
      });
      continue;
    }
    const rotated = await getDb().$transaction(async (tx) => {
      await lockTenant(tx, due.tenant_id);
      const still = await dueTenants(tx, now, due.tenant_id);
      if (still[0]?.kms_key_id !== due.kms_key_id) return false;
      // Stamped with the job's clock, so the version's age and the next due date follow the same clock.
      const created = await createTenantKey(tx, { tenantId: due.tenant_id, kmsKeyId: due.kms_key_id, wrappedKey: generated.wrapped, createdAt: now });
      await appendAuditEvent(tx, {
        tenantId: due.tenant_id,
        actor: SCHEDULE_ACTOR,
        action: AUDIT_ACTIONS.tenantKeyRotated,
        target: { type: "tenant_key", id: created.id },
        outcome: "success",
        request: NO_REQUEST,
        details: { version: created.version, kmsKeyId: due.kms_key_id, trigger: "schedule" },
      });
      await announceKeyState(tx, due.tenant_id);
      return true;
    });
    if (rotated) result.rotated += 1;
  }
  return result;
}
