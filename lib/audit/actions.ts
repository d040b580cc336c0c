// Every action the audit trail records. Later features add theirs here, so the list stays
// the single place to read what the trail can contain.
export const AUDIT_ACTIONS = {
  signIn: "auth.sign_in",
  signOut: "auth.sign_out",
  tenantCreated: "tenant.created",
  memberInvited: "member.invited",
  memberRoleChanged: "member.role_changed",
  memberRemoved: "member.removed",
  vendorAdminGranted: "vendor_admin.granted",
  keyRegistered: "key.registered",
  keyVerified: "key.verified",
  keyVerifyFailed: "key.verify_failed",
  keyGrantRetired: "key.grant_retired",
  /** The grant ids Custody keeps for a key were added or changed (details: how many). */
  keyGrantsChanged: "key.grants_changed",
  /** A key that never became usable was removed. */
  keyRemoved: "key.removed",
  accessGranted: "access.granted",
  accessRevoked: "access.revoked",
  accessRestored: "access.restored",
  // The key service (lib/keyservice): one event per call, refusals included.
  keyWrap: "key.wrap",
  keyUnwrap: "key.unwrap",
  keyBatchWrap: "key.batch_wrap",
  keyBatchUnwrap: "key.batch_unwrap",
  keyRekey: "key.rekey",
  /** An instance unwrapped a tenant key with the tenant's KMS key for a new lease. */
  leaseAcquired: "key.lease_acquired",
  leaseFailed: "key.lease_failed",
  /** Too many failed bearer authentications from an address or with a credential id: once per window (lib/keyservice/auth-limiter.ts). */
  keyServiceAuthRateLimited: "key.auth_rate_limited",
  credentialCreated: "credential.created",
  credentialRotated: "credential.rotated",
  credentialRevoked: "credential.revoked",
  // Integrity and retention (lib/audit/integrity/verify-chain.ts, checkpoints.ts, prune.ts).
  auditVerified: "audit.verified",
  checkpointSigned: "audit.checkpoint_signed",
  auditPruned: "audit.pruned",
  /** A member downloaded the trail (lib/audit/export/export.ts): format and filter in details. */
  auditExported: "audit.exported",
  // Log sinks (lib/sinks): a tenant's SIEM destinations. Secrets never appear in details.
  sinkCreated: "sink.created",
  sinkUpdated: "sink.updated",
  sinkDeleted: "sink.deleted",
  /** Failed deliveries put back in the queue. */
  sinkRetried: "sink.retried",
  /** A test event sent to the sink (not itself in the trail); outcome and result in details. */
  sinkTested: "sink.tested",
} as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

/** Events that belong to no tenant (vendor admins' own sign-ins, unknown users) form this chain. */
export const VENDOR_CHAIN = "vendor";
