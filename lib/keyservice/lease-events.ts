import type pg from "pg";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit";
import type { AuditDetails } from "@/lib/audit/trail/append";
import type { AuditGroupCommitter } from "@/lib/audit/trail/group-commit";
import type { KmsError } from "@/lib/kms";
import type { LeaseEvents } from "@/lib/keys/leases";
import type { TenantKeyRecord } from "@/lib/keys/tenant-key-state";
import { log } from "@/lib/log";
import { kmsErrorCode } from "./kms-errors";

// What the key service does when a lease is acquired or fails: an audit event in the tenant's
// chain (written by the instance, not by a caller) and the KMS key's error on the tenant's key
// page, set on failure and cleared once the key works again.

const KEY_SERVICE_ERROR_PREFIX = "The key service could not use this key:";
const logger = log.child({ component: "key-service" });

export function leaseEvents(committer: AuditGroupCommitter, pool: pg.Pool, instance: string): LeaseEvents {
  const record = (tenantId: string, key: TenantKeyRecord, action: AuditAction, outcome: "success" | "failure", details: AuditDetails) => {
    committer
      .append({
        tenantId,
        actor: { type: "system", id: null, label: instance },
        action,
        target: { type: "kms_key", id: key.kmsKeyId },
        outcome,
        request: { sourceIp: null, userAgent: null, requestId: null },
        details: { ...details, tenantKeyId: key.id, provider: key.kmsKey.provider, keyRef: key.kmsKey.ref },
        requiresAccess: false,
      })
      .catch(() => logger.error({ tenantId, action }, "could not record a lease event"));
  };
  return {
    acquired: (tenantId, key, renewal) => {
      record(tenantId, key, AUDIT_ACTIONS.leaseAcquired, "success", { renewal });
      clearKmsKeyError(pool, key.kmsKeyId);
    },
    failed: (tenantId, key, error, renewal) => {
      record(tenantId, key, AUDIT_ACTIONS.leaseFailed, "failure", { renewal, code: kmsErrorCode(error), reason: error.kind });
      recordKmsKeyError(pool, key.kmsKeyId, error);
    },
  };
}

/** Shown on the tenant's key page until the key works again (or is verified). */
function recordKmsKeyError(pool: pg.Pool, kmsKeyId: string, error: KmsError): void {
  pool
    .query("UPDATE kms_keys SET last_error = $2, last_error_at = now() WHERE id = $1::uuid", [kmsKeyId, `${KEY_SERVICE_ERROR_PREFIX} ${error.message}`])
    .catch(() => logger.error({ kmsKeyId }, "could not record a KMS key error"));
}

function clearKmsKeyError(pool: pg.Pool, kmsKeyId: string): void {
  pool
    .query("UPDATE kms_keys SET last_error = NULL, last_error_at = NULL WHERE id = $1::uuid AND starts_with(last_error, $2)", [kmsKeyId, KEY_SERVICE_ERROR_PREFIX])
    .catch(() => logger.error({ kmsKeyId }, "could not clear a KMS key error"));
}
