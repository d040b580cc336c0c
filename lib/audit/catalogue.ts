// The audit catalogue: every action the trail records, declared once, with everything the
// code and the console know about it. Pure code (client components read it). Every map by
// action derives from here and is typed by the action union, so an action added here has its
// label, category, outcome semantics and usage role or the build fails, and nothing else
// needs a line for it (see ARCHITECTURE.md, "How to add an audit action").

/** What an event's outcome says, by kind of action. */
export const OUTCOME_SEMANTICS = {
  /** A change made by a person: success committed with its event; denied was refused and rolled back (recorded after); failure: an outside system (the KMS) refused it. */
  change: "success: the change committed; denied: refused, nothing changed; failure: the KMS refused it",
  /** A key-service call, one event per call, refusals included. */
  call: "success: answered; denied: refused (credential, scope, tenant, revoked access); failure: the KMS or Custody failed it",
  /** A check that ran (a verification, a test delivery): its result is the outcome, or in details. */
  check: "the check ran; its result is the outcome or in details",
  /** Something Custody observed or did by itself (a sign-in, a lease, a prune). */
  notice: "what happened: success, or denied or failure as recorded",
} as const;

export type OutcomeSemantics = keyof typeof OUTCOME_SEMANTICS;

export const AUDIT_CATEGORIES = {
  auth: "Sign-in",
  tenant: "Tenants and members",
  kms: "KMS keys and vendor access",
  keyService: "Key service",
  credentials: "Service credentials",
  trail: "The audit trail",
  sinks: "Log sinks",
} as const;

export type AuditCategory = keyof typeof AUDIT_CATEGORIES;

/** A key-service operation's place in the usage charts: its series' name and colour (Okabe–Ito). */
export type UsageChartRole = {
  name: string;
  color: string;
  /** A batch call: its event's `details.items` is the number of data keys it handled. */
  batch: boolean;
};

export type AuditActionDefinition = {
  /** The action as stored (`audit_events.action`): never renamed, the trail keeps it forever. */
  action: `${string}.${string}`;
  /** The console's words for it. */
  label: string;
  category: AuditCategory;
  outcomes: OutcomeSemantics;
  /** Set for the key-service operations the usage charts count; every other action is "other activity". */
  usage?: UsageChartRole;
};

// Names are the code's (AUDIT_ACTIONS.keyWrap); order is the console's where it lists them.
export const AUDIT_CATALOGUE = {
  signIn: { action: "auth.sign_in", label: "Signed in", category: "auth", outcomes: "notice" },
  signOut: { action: "auth.sign_out", label: "Signed out", category: "auth", outcomes: "notice" },
  /** Too many sign-in attempts or failed sign-ins from one address: once per window (lib/auth/sign-in-limiter.ts). */
  signInRateLimited: { action: "auth.sign_in_rate_limited", label: "Sign-in rate-limited", category: "auth", outcomes: "notice" },
  tenantCreated: { action: "tenant.created", label: "Tenant created", category: "tenant", outcomes: "change" },
  memberInvited: { action: "member.invited", label: "Member invited", category: "tenant", outcomes: "change" },
  memberRoleChanged: { action: "member.role_changed", label: "Member role changed", category: "tenant", outcomes: "change" },
  memberRemoved: { action: "member.removed", label: "Member removed", category: "tenant", outcomes: "change" },
  /** An unused invitation was made usable for a new period (INVITATION_DAYS from now). */
  memberInvitationResent: { action: "member.invitation_resent", label: "Invitation re-sent", category: "tenant", outcomes: "change" },
  /** An unused invitation was withdrawn before its person signed in. */
  memberInvitationRevoked: { action: "member.invitation_revoked", label: "Invitation revoked", category: "tenant", outcomes: "change" },
  /** A vendor admin opened the tenant's detail in the vendor console (its health, admins, onboarding). */
  tenantViewedByVendor: { action: "tenant.viewed_by_vendor", label: "Vendor staff viewed this tenant", category: "tenant", outcomes: "notice" },
  vendorAdminGranted: { action: "vendor_admin.granted", label: "Vendor admin granted", category: "tenant", outcomes: "change" },
  keyRegistered: { action: "key.registered", label: "KMS key registered", category: "kms", outcomes: "change" },
  /** The vendor's AWS self-test: on the vendor chain, and on each tenant whose key it tried (details: the outcome). */
  awsSelfTest: { action: "vendor.aws_self_test", label: "Vendor ran the AWS self-test", category: "kms", outcomes: "check" },
  keyVerified: { action: "key.verified", label: "KMS key verified", category: "kms", outcomes: "check" },
  keyVerifyFailed: { action: "key.verify_failed", label: "KMS key verification failed", category: "kms", outcomes: "check" },
  keyGrantRetired: { action: "key.grant_retired", label: "KMS grant retired", category: "kms", outcomes: "notice" },
  /** The grant ids Custody keeps for a key were added or changed (details: how many). */
  keyGrantsChanged: { action: "key.grants_changed", label: "KMS grant ids changed", category: "kms", outcomes: "change" },
  /** A key that never became usable was removed. */
  keyRemoved: { action: "key.removed", label: "KMS key removed", category: "kms", outcomes: "change" },
  /** A tenant admin started (or resumed) re-wrapping the tenant keys an older KMS key wraps under the primary one (lib/keys/rotation; details: keys, counts). */
  keyRotationStarted: { action: "key.rotation_started", label: "KMS key rotation started", category: "kms", outcomes: "change" },
  /** Every tenant key the old KMS key wrapped is wrapped by the new one: nothing depends on the old key any more. */
  keyRotationCompleted: { action: "key.rotation_completed", label: "KMS key rotation completed", category: "kms", outcomes: "notice" },
  /** A rotation stopped on a KMS error (details: the error's kind, counts); the admin resumes or rolls back. */
  keyRotationFailed: { action: "key.rotation_failed", label: "KMS key rotation stopped on an error", category: "kms", outcomes: "notice" },
  /** A stopped rotation was undone: every re-wrapped tenant key is wrapped by the old KMS key again. */
  keyRotationRolledBack: { action: "key.rotation_rolled_back", label: "KMS key rotation rolled back", category: "kms", outcomes: "change" },
  /** A KMS key nothing depended on was retired: never used again (details: what was done on the KMS side). */
  keyRetired: { action: "key.retired", label: "KMS key retired", category: "kms", outcomes: "change" },
  accessGranted: { action: "access.granted", label: "Vendor access granted", category: "kms", outcomes: "change" },
  accessRevoked: { action: "access.revoked", label: "Vendor access revoked", category: "kms", outcomes: "change" },
  accessRestored: { action: "access.restored", label: "Vendor access restored", category: "kms", outcomes: "change" },
  /** A tenant admin set how many days its primary KMS key may serve before a rotation reminder (details: from, to; null: off). */
  kmsRotationPolicyChanged: { action: "key.rotation_policy_changed", label: "KMS key rotation policy changed", category: "kms", outcomes: "change" },
  /** The tenant's primary KMS key is older than its rotation policy: once per key and reminder period (lib/fleet/kms-rotation.ts). */
  kmsRotationOverdue: { action: "key.rotation_overdue", label: "KMS key rotation overdue", category: "kms", outcomes: "notice" },
  /** A new tenant key version became current for wraps (details: version, kmsKeyId, trigger: "manual" or "schedule"); failure: the KMS refused. */
  tenantKeyRotated: { action: "tenant_key.rotated", label: "Tenant key rotated", category: "kms", outcomes: "change" },
  /** The tenant's rotation schedule (details: days, null when off). */
  tenantKeyRotationScheduled: { action: "tenant_key.rotation_scheduled", label: "Tenant key rotation schedule changed", category: "kms", outcomes: "change" },
  /** An old tenant key version was retired (details: version, quietDays): its EDEKs are refused from then on. */
  tenantKeyRetired: { action: "tenant_key.retired", label: "Tenant key version retired", category: "kms", outcomes: "change" },
  // The key service (lib/keyservice): one event per call, refusals included.
  keyWrap: {
    action: "key.wrap",
    label: "Data key wrapped",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Wrap", color: "#0072B2", batch: false },
  },
  keyUnwrap: {
    action: "key.unwrap",
    label: "Data key unwrapped",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Unwrap", color: "#E69F00", batch: false },
  },
  keyBatchWrap: {
    action: "key.batch_wrap",
    label: "Data keys wrapped (batch)",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Batch wrap", color: "#56B4E9", batch: true },
  },
  keyBatchUnwrap: {
    action: "key.batch_unwrap",
    label: "Data keys unwrapped (batch)",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Batch unwrap", color: "#D55E00", batch: true },
  },
  keyRekey: {
    action: "key.rekey",
    label: "Data key re-wrapped",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Rekey", color: "#009E73", batch: false },
  },
  keyBatchRekey: {
    action: "key.batch_rekey",
    label: "Data keys re-wrapped (batch)",
    category: "keyService",
    outcomes: "call",
    usage: { name: "Batch rekey", color: "#CC79A7", batch: true },
  },
  /** An instance unwrapped a tenant key with the tenant's KMS key for a new lease. */
  leaseAcquired: { action: "key.lease_acquired", label: "Tenant key leased from KMS", category: "keyService", outcomes: "notice" },
  leaseFailed: { action: "key.lease_failed", label: "Tenant key lease failed", category: "keyService", outcomes: "notice" },
  /** Too many failed bearer authentications from an address or with a credential id: once per window (lib/keyservice/auth-limiter.ts). */
  keyServiceAuthRateLimited: {
    action: "key.auth_rate_limited",
    label: "Key-service authentication rate-limited",
    category: "keyService",
    outcomes: "notice",
  },
  /** A person's console actions were refused too often in a window; recorded once per window, on the vendor chain. */
  consoleRefusalsRateLimited: {
    action: "console.refusals_rate_limited",
    label: "Console actions rate-limited",
    category: "tenant",
    outcomes: "notice",
  },
  credentialCreated: { action: "credential.created", label: "Service credential created", category: "credentials", outcomes: "change" },
  credentialRotated: { action: "credential.rotated", label: "Service credential rotated", category: "credentials", outcomes: "change" },
  credentialRevoked: { action: "credential.revoked", label: "Service credential revoked", category: "credentials", outcomes: "change" },
  // Integrity and retention (lib/audit/integrity, lib/audit/trail/prune.ts).
  auditVerified: { action: "audit.verified", label: "Trail integrity verified", category: "trail", outcomes: "check" },
  checkpointSigned: { action: "audit.checkpoint_signed", label: "Trail checkpoint signed", category: "trail", outcomes: "change" },
  auditPruned: { action: "audit.pruned", label: "Old events pruned (retention)", category: "trail", outcomes: "notice" },
  /** A member downloaded the trail (lib/audit/export/export.ts): format and filter in details. */
  auditExported: { action: "audit.exported", label: "Trail exported", category: "trail", outcomes: "change" },
  // Log sinks (lib/sinks): a tenant's SIEM destinations. Secrets never appear in details.
  sinkCreated: { action: "sink.created", label: "Log sink added", category: "sinks", outcomes: "change" },
  sinkUpdated: { action: "sink.updated", label: "Log sink changed", category: "sinks", outcomes: "change" },
  sinkDeleted: { action: "sink.deleted", label: "Log sink deleted", category: "sinks", outcomes: "change" },
  /** Failed deliveries put back in the queue. */
  sinkRetried: { action: "sink.retried", label: "Log sink deliveries retried", category: "sinks", outcomes: "change" },
  /** A test event sent to the sink (not itself in the trail); outcome and result in details. */
  sinkTested: { action: "sink.tested", label: "Log sink tested", category: "sinks", outcomes: "check" },
} as const satisfies Record<string, AuditActionDefinition>;

type Catalogue = typeof AUDIT_CATALOGUE;
type Name = keyof Catalogue;

/** The code's name for each action: AUDIT_ACTIONS.keyWrap is "key.wrap". */
export const AUDIT_ACTIONS = Object.fromEntries(Object.entries(AUDIT_CATALOGUE).map(([name, d]) => [name, d.action])) as {
  readonly [N in Name]: Catalogue[N]["action"];
};

export type AuditAction = Catalogue[Name]["action"];

/** Every action, in the catalogue's order. */
export const AUDIT_ACTION_LIST: readonly AuditAction[] = Object.values(AUDIT_ACTIONS);

/** Each action's definition, by the action as stored. */
export const AUDIT_ACTION_DEFINITIONS = Object.fromEntries(Object.values(AUDIT_CATALOGUE).map((d) => [d.action, d])) as {
  readonly [N in Name as Catalogue[N]["action"]]: Catalogue[N];
};

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTION_DEFINITIONS, value);
}

/** The console's words for each action. */
export const ACTION_LABELS = Object.fromEntries(AUDIT_ACTION_LIST.map((a) => [a, AUDIT_ACTION_DEFINITIONS[a].label])) as Readonly<Record<AuditAction, string>>;

/** An event's action in the console's words; one no longer in the catalogue (an older trail's) as it is stored. */
export function actionLabel(action: string): string {
  return isAuditAction(action) ? ACTION_LABELS[action] : action;
}

/** The key service's operations: what the usage charts call "key operations" (their series, in order). */
export type KeyServiceAction = { [N in Name]: Catalogue[N] extends { usage: UsageChartRole } ? Catalogue[N]["action"] : never }[Name];

export const KEY_SERVICE_ACTIONS: readonly KeyServiceAction[] = AUDIT_ACTION_LIST.filter(
  (a): a is KeyServiceAction => (AUDIT_ACTION_DEFINITIONS[a] as AuditActionDefinition).usage !== undefined,
);

/** Each key operation's series in the usage charts. */
export const USAGE_CHART_ROLES = Object.fromEntries(
  KEY_SERVICE_ACTIONS.map((a) => [a, AUDIT_ACTION_DEFINITIONS[a].usage]),
) as Readonly<Record<KeyServiceAction, UsageChartRole>>;

/** Events that belong to no tenant (vendor admins' own sign-ins, unknown users) form this chain. */
export const VENDOR_CHAIN = "vendor";
