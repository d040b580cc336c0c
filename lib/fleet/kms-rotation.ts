import "server-only";
import { AUDIT_ACTIONS, type Actor, appendAuditEvent } from "@/lib/audit";
import { type Caller, standingOf, tenantChange } from "@/lib/authz";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { NO_REQUEST } from "@/lib/http/request-meta";
import { keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import type { KmsRotationPolicyInput } from "@/lib/validation/kms-rotation";

// KMS-key rotation reminders. Each tenant has a rotation policy: how many days its primary KMS
// key may serve, counted from the key's registration with Custody, before the tenant is told to
// rotate it (null: never). A key older than that is overdue: the tenant's overview says which
// key, how old and what to do, the vendor's fleet shows it, and a background job puts a
// `key.rotation_overdue` event on the tenant's trail (which its log sinks deliver) once when the
// key becomes overdue and once every REMINDER_REPEAT_DAYS while it stays so. Each reminder is a
// row of kms_rotation_reminders (key, due date, period), inserted with its event in one
// transaction: however often the job runs, a period is reminded once; a changed policy is a new
// due date and so a new series.

const DAY_MS = 86_400_000;

/** While a key stays overdue, a reminder every this many days after the first. */
export const REMINDER_REPEAT_DAYS = 30;

export const REMINDER_ACTOR: Actor = { type: "system", id: null, label: "rotation reminders" };

export type KmsRotationKey = {
  id: string;
  providerLabel: string;
  /** The key's reference as its provider names it (AWS: the key ARN): the tenant's own key. */
  keyRef: string;
  location: string | null;
  registeredAt: Date;
  ageDays: number;
};

export type KmsRotationStatus = {
  /** Days the primary key may serve; null: no reminders. */
  policyDays: number | null;
  /** The primary KMS key; null while the tenant has none. */
  key: KmsRotationKey | null;
  /** When the key becomes (or became) overdue; null without a key or a policy. */
  dueAt: Date | null;
  /** Whole days past dueAt; null while not overdue. */
  overdueDays: number | null;
};

/** When a key registered at `registeredAt` is due for rotation under a policy of `days`. */
export function rotationDueAt(registeredAt: Date, days: number): Date {
  return new Date(registeredAt.getTime() + days * DAY_MS);
}

/** Which reminder period `now` falls in for a key due at `dueAt` (0: the first), or null before it is due. */
export function reminderPeriod(dueAt: Date, now: Date): number | null {
  const past = now.getTime() - dueAt.getTime();
  return past < 0 ? null : Math.floor(past / (REMINDER_REPEAT_DAYS * DAY_MS));
}

function statusOf(
  policyDays: number | null,
  key: { id: string; provider: string; keyRef: string; keyDetails: unknown; createdAt: Date } | null,
  now: Date,
): KmsRotationStatus {
  if (!key) return { policyDays, key: null, dueAt: null, overdueDays: null };
  const ref = keyRefOf({ provider: key.provider, keyRef: key.keyRef, keyDetails: key.keyDetails });
  const definition = KMS_PROVIDERS[ref.provider];
  const dueAt = policyDays === null ? null : rotationDueAt(key.createdAt, policyDays);
  const overdue = dueAt === null ? null : reminderPeriod(dueAt, now);
  return {
    policyDays,
    key: {
      id: key.id,
      providerLabel: definition.display.label,
      keyRef: key.keyRef,
      location: definition.display.location(ref),
      registeredAt: key.createdAt,
      ageDays: Math.floor((now.getTime() - key.createdAt.getTime()) / DAY_MS),
    },
    dueAt,
    overdueDays: overdue === null || dueAt === null ? null : Math.floor((now.getTime() - dueAt.getTime()) / DAY_MS),
  };
}

/** The tenant's rotation policy and how its primary KMS key stands against it; for the tenant's members. */
export async function kmsRotationStatus(caller: Caller, tenantId: string, now: Date = new Date()): Promise<KmsRotationStatus> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
  const tenant = await db.tenant.findUnique({
    where: { id: tenantId },
    select: { kmsRotationDays: true, primaryKmsKey: { select: { id: true, provider: true, keyRef: true, keyDetails: true, createdAt: true } } },
  });
  if (!tenant) throw new AppError("not_found", "No such tenant.");
  return statusOf(tenant.kmsRotationDays, tenant.primaryKmsKey, now);
}

/** A tenant admin sets the rotation policy (days, or null for no reminders); audited with the old and new value. */
export async function setKmsRotationPolicy(caller: Caller, input: KmsRotationPolicyInput): Promise<{ days: number | null; changed: boolean }> {
  const attempt = { tenantId: input.tenantId, action: AUDIT_ACTIONS.kmsRotationPolicyChanged, target: { type: "tenant", id: input.tenantId } };
  return tenantChange(caller, attempt, async ({ tx, record }) => {
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: input.tenantId }, select: { kmsRotationDays: true } });
    if (tenant.kmsRotationDays === input.days) return { days: input.days, changed: false };
    await tx.tenant.update({ where: { id: input.tenantId }, data: { kmsRotationDays: input.days } });
    await record({ details: { from: tenant.kmsRotationDays, to: input.days } });
    return { days: input.days, changed: true };
  });
}

type OverdueKey = {
  tenant_id: string;
  days: number;
  key_id: string;
  provider: string;
  key_ref: string;
  key_details: unknown;
  created_at: Date;
};

/**
 * The background job: one `key.rotation_overdue` event on each tenant's trail whose primary KMS
 * key is past its policy, once per key, due date and reminder period. Returns how many it sent.
 */
export async function sendKmsRotationReminders(now: Date = new Date()): Promise<{ reminded: number }> {
  const db = getDb();
  const overdue = await db.$queryRaw<OverdueKey[]>`
    SELECT t.id::text AS tenant_id, t.kms_rotation_days AS days, k.id::text AS key_id, k.provider, k.key_ref, k.key_details, k.created_at
      FROM tenants t JOIN kms_keys k ON k.id = t.primary_kms_key_id
     WHERE t.kms_rotation_days IS NOT NULL
       AND k.created_at + make_interval(days => t.kms_rotation_days) <= ${now}::timestamptz
       AND NOT EXISTS (
         SELECT 1 FROM kms_rotation_reminders r
          WHERE r.kms_key_id = k.id AND r.due_at = k.created_at + make_interval(days => t.kms_rotation_days)
            AND r.period = floor(extract(epoch FROM ${now}::timestamptz - r.due_at) / ${REMINDER_REPEAT_DAYS * 86_400})::int)`;
  let reminded = 0;
  for (const row of overdue) {
    const dueAt = rotationDueAt(row.created_at, row.days);
    const period = reminderPeriod(dueAt, now);
    if (period === null) continue;
    const status = statusOf(row.days, { id: row.key_id, provider: row.provider, keyRef: row.key_ref, keyDetails: row.key_details, createdAt: row.created_at }, now);
    const sent = await db.$transaction(async (tx) => {
      // The reminder's row first: a concurrent run (another instance) that got there sends nothing.
      const inserted = await tx.$executeRaw`
        INSERT INTO kms_rotation_reminders (kms_key_id, due_at, period, sent_at)
        VALUES (${row.key_id}::uuid, ${dueAt}::timestamptz, ${period}, ${now}::timestamptz)
        ON CONFLICT DO NOTHING`;
      if (inserted === 0) return false;
      await appendAuditEvent(tx, {
        tenantId: row.tenant_id,
        actor: REMINDER_ACTOR,
        action: AUDIT_ACTIONS.kmsRotationOverdue,
        target: { type: "kms_key", id: row.key_id },
        outcome: "success",
        request: NO_REQUEST,
        details: {
          provider: row.provider,
          keyRef: row.key_ref,
          registeredAt: row.created_at.toISOString(),
          ageDays: status.key?.ageDays ?? 0,
          policyDays: row.days,
          dueAt: dueAt.toISOString(),
          reminder: period + 1,
          todo: "Register a new KMS key, verify it, then re-wrap the tenant keys under it and retire the old key.",
        },
      });
      return true;
    });
    if (sent) reminded += 1;
  }
  return { reminded };
}
