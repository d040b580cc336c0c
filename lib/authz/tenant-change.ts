import "server-only";
import type { AuditAction } from "@/lib/audit/actions";
import { type Actor, type AuditDetails, type AuditInput, appendAuditEvent } from "@/lib/audit/trail/append";
import type { Tx } from "@/lib/db";
import type { AuditEvent } from "@/lib/db/generated/client";
import type { AppError } from "@/lib/errors";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { actorOf, type Caller, type Standing } from "./caller";
import { deny, type Refusal, runAudited } from "./refusal";
import { requireTenantRole, type Target } from "./require-role";

/** What a change in a tenant gets once the caller's role is settled, inside its transaction. */
export type TenantChange = {
  tx: Tx;
  standing: Standing;
  actor: Actor;
  /** A refusal of this change: throw it; the transaction rolls back and the refusal is audited as denied. */
  deny(reason: string, publicError: AppError, target?: Target): Refusal;
  /** Appends this change's event (by default: the attempted action, on its target, succeeded) in the transaction. */
  record(event: { details: AuditDetails; target?: Target; action?: AuditAction; outcome?: AuditInput["outcome"] }): Promise<AuditEvent>;
};

/**
 * The "transaction, then audit the refusal" shape of every change in a tenant: one transaction
 * that first requires one of `roles` (tenant admins by default), then runs `work`; a refusal
 * rolls it back and is recorded afterwards (`runAudited`).
 */
export function tenantChange<T>(
  caller: Caller,
  attempt: { tenantId: string; action: AuditAction; target: Target; roles?: Array<TenantRoleName | "vendor"> },
  work: (change: TenantChange) => Promise<T>,
): Promise<T> {
  const { tenantId, action, target } = attempt;
  return runAudited(async (tx) => {
    const standing = await requireTenantRole(tx, caller, tenantId, attempt.roles ?? ["admin"], { action, target });
    const actor = actorOf(caller, standing);
    return work({
      tx,
      standing,
      actor,
      deny: (reason, publicError, deniedTarget = target) => deny(caller, standing, tenantId, action, deniedTarget, reason, publicError),
      record: (event) =>
        appendAuditEvent(tx, {
          tenantId,
          actor,
          action: event.action ?? action,
          target: event.target ?? target,
          outcome: event.outcome ?? "success",
          request: caller.request,
          details: event.details,
        }),
    });
  });
}
