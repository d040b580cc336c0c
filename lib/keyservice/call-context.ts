import "server-only";
import type { Actor, AuditAction } from "@/lib/audit";
import type { AuditDetails } from "@/lib/audit/trail/append";
import { AuditCommitError, type AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import type { AuthCredential } from "@/lib/credentials";
import { AppError, type ErrorCode, isAppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import { isKmsError } from "@/lib/kms";
import { decodeEdek, edekTenantKeyId, InvalidEdekError, openEdek } from "@/lib/keys/edek";
import type { TenantKeyLeases } from "@/lib/keys/leases";
import type { TenantKeyRecord, TenantKeyState } from "@/lib/keys/tenant-key-state";
import { errorFields, log } from "@/lib/log";
import type { CallMetadata, ServiceScope } from "@/lib/validation/keyservice";
import type { KeyServiceCaches } from "./caches";
import { kmsAppError } from "./kms-errors";
import type { UsageRecorder } from "./usage-recorder";

// One call of an operation once admitted: who calls (the credential, the request), which
// tenant (its key state), which audited action with which metadata and details. The steps the
// operations share live here: admission, the tenant's primary key, opening an EDEK, the leased
// key material, and the audit event that must commit before any answer leaves (a refusal is
// recorded, then thrown).

/** An authenticated call: the credential and what the request says about itself. */
export type ServiceCall = { credential: AuthCredential; request: RequestMeta };

/** The key service's parts an operation uses. */
export type KeyServiceParts = {
  committer: AuditGroupCommitter;
  leases: TenantKeyLeases;
  caches: KeyServiceCaches;
  usage: UsageRecorder;
};

/** What an operation says about itself before admission. */
export type CallRequest = { tenantId: string; scope: ServiceScope; action: AuditAction; metadata: CallMetadata; details: AuditDetails };

/** Refusals a caller caused; everything else that fails is a failure on Custody's or the KMS's side. */
const DENIED: ReadonlySet<ErrorCode> = new Set([
  "bad_request",
  "unauthenticated",
  "forbidden",
  "access_revoked",
  "invalid_edek",
  "key_version_retired",
  "no_key_configured",
  "unknown_tenant",
]);
const REVOKED_MESSAGE = "The tenant has revoked the vendor's access to its key.";
/** The answer to a use whose credential was revoked before it committed (the caller did hold its secret). */
const CREDENTIAL_REVOKED_MESSAGE = "This service credential has been revoked.";
const logger = log.child({ component: "key-service" });

export class CallContext {
  private constructor(
    private readonly parts: KeyServiceParts,
    readonly call: ServiceCall,
    readonly action: AuditAction,
    readonly metadata: CallMetadata,
    readonly details: AuditDetails,
    readonly state: TenantKeyState,
  ) {}

  /**
   * Credential may act on this tenant with this scope, tenant exists, access not revoked.
   * Refusals are audited: in the tenant's chain once the credential may act on the tenant at
   * all, otherwise in the vendor's chain without the caller's text, so a credential cannot
   * learn whether another tenant exists or write into its trail.
   */
  static async admit(parts: KeyServiceParts, call: ServiceCall, request: CallRequest): Promise<CallContext> {
    const { credential } = call;
    const tenantId = request.tenantId.toLowerCase();
    if (credential.tenantId !== null && credential.tenantId !== tenantId) {
      await refuseForVendor(parts, call, request.action, tenantId, new AppError("forbidden", "This credential is restricted to another tenant."));
    }
    const state = await parts.caches.tenantState(tenantId);
    if (!state) return refuseForVendor(parts, call, request.action, tenantId, new AppError("unknown_tenant", "No tenant has this id."));
    const context = new CallContext(parts, call, request.action, request.metadata, request.details, state);
    if (!credential.scopes.includes(request.scope)) {
      await context.refuse(new AppError("forbidden", `This credential does not have the "${request.scope}" scope.`));
    }
    if (state.revoked) {
      parts.leases.dropTenant(state.tenantId);
      await context.refuse(new AppError("access_revoked", REVOKED_MESSAGE));
    }
    return context;
  }

  get tenantId(): string {
    return this.state.tenantId;
  }

  /** The key new EDEKs are sealed under; none yet is a recorded refusal (with `extra` details). */
  async primaryKey(extra?: AuditDetails): Promise<TenantKeyRecord> {
    if (this.state.primary) return this.state.primary;
    return this.refuse(new AppError("no_key_configured", "The tenant has no verified KMS key yet; its admin must register and verify one."), extra);
  }

  /**
   * The tenant key an EDEK names, if it is this tenant's and still usable. Throws
   * `key_version_retired` (an AppError) for a version this tenant retired, else InvalidEdekError.
   */
  usableKey(tenantKeyId: string): TenantKeyRecord {
    const key = this.state.usable.get(tenantKeyId);
    if (key) return key;
    const retired = this.state.retired.get(tenantKeyId);
    if (retired) {
      throw new AppError(
        "key_version_retired",
        `The EDEK is under tenant key version ${retired.version}, which the tenant retired on ${retired.retiredAt.toISOString().slice(0, 10)}; it can no longer be unwrapped or rekeyed.`,
      );
    }
    // Another tenant's EDEK, or one under a key this tenant no longer uses: the same answer, naming nothing.
    throw new InvalidEdekError("The EDEK was not issued for this tenant, or its tenant key is no longer usable.");
  }

  /** The DEK inside an EDEK and the tenant key it was sealed under; a bad EDEK is a recorded refusal. */
  async open(edekBase64: string, dataLabel: string): Promise<{ dek: Buffer; key: TenantKeyRecord }> {
    let key: TenantKeyRecord;
    const edek = decodeEdek(edekBase64);
    let tenantKeyId: string | null = null;
    try {
      // Reading the id checks the EDEK's length: a short or malformed one is invalid_edek, never a 500.
      tenantKeyId = edekTenantKeyId(edek);
      key = this.usableKey(tenantKeyId);
    } catch (error) {
      if (isAppError(error)) return this.refuse(error, { tenantKeyId });
      return this.refuse(new AppError("invalid_edek", (error as Error).message));
    }
    const material = await this.material(key);
    try {
      return { dek: openEdek(material, { tenantId: this.state.tenantId, dataLabel }, edek), key };
    } catch (error) {
      if (!(error instanceof InvalidEdekError)) throw error;
      return this.refuse(new AppError("invalid_edek", error.message), { tenantKeyId: key.id });
    }
  }

  /**
   * The tenant key's material from its lease; a KMS failure is a recorded refusal (`extra`
   * details are built only then: a batch asks once per item).
   */
  async material(key: TenantKeyRecord, extra?: () => AuditDetails): Promise<Buffer> {
    try {
      return await this.parts.leases.material(this.state.tenantId, key);
    } catch (error) {
      if (!isKmsError(error)) throw error;
      return this.refuse(kmsAppError(error), { ...extra?.(), tenantKeyId: key.id, reason: error.kind });
    }
  }

  /** Records a refusal (committed before the answer), with the call's details and `extra`, and throws it. */
  async refuse(error: AppError, extra?: AuditDetails): Promise<never> {
    await auditOrUnavailable(() =>
      this.parts.committer.append({
        tenantId: this.state.tenantId,
        actor: actorOf(this.call),
        action: this.action,
        target: { type: "tenant", id: this.state.tenantId },
        outcome: DENIED.has(error.code) ? "denied" : "failure",
        request: this.request(),
        details: this.withServerRequestId({ ...this.details, ...extra, code: error.code }),
        requiresAccess: false,
      }),
    );
    throw error;
  }

  /**
   * Commits a use of the tenant's key (the call's details and `extra`); if the tenant was
   * revoked meanwhile it is recorded and answered as refused. If the credential was revoked
   * meanwhile (its NOTIFY not yet here), the use is not written: the refusal is recorded as its
   * own event and answered `unauthenticated`, as the revoked token is from then on.
   */
  async commitUse(key: TenantKeyRecord | null, extra?: AuditDetails, allFailed = false): Promise<void> {
    const { tenantId } = this.state;
    const details = extra ? { ...this.details, ...extra } : this.details;
    const event: HotAuditEvent = {
      tenantId,
      actor: actorOf(this.call),
      action: this.action,
      target: key ? { type: "tenant_key", id: key.id } : { type: "tenant", id: tenantId },
      outcome: allFailed ? "denied" : "success",
      request: this.request(),
      details: this.withServerRequestId(key ? { ...details, tenantKeyId: key.id } : details),
      requiresAccess: true,
      credentialId: this.call.credential.id,
    };
    const result = await auditOrUnavailable(() => this.parts.committer.append(event));
    if (result.credentialRevoked) {
      this.parts.caches.forgetCredential(this.call.credential.id);
      return this.refuse(new AppError("unauthenticated", CREDENTIAL_REVOKED_MESSAGE), { reason: "credential_revoked" });
    }
    if (result.revoked) {
      this.parts.leases.dropTenant(tenantId);
      this.parts.caches.forgetTenant(tenantId);
      throw new AppError("access_revoked", REVOKED_MESSAGE);
    }
    if (key) this.parts.usage.kmsKeyUsed(key.kmsKeyId);
  }

  /**
   * The caller's own request id, when given, is the event's request id (it is what their logs
   * know); Custody's (the X-Request-Id it answered with) then goes into the details.
   */
  private request(): RequestMeta {
    return this.metadata.requestId ? { ...this.call.request, requestId: this.metadata.requestId } : this.call.request;
  }

  private withServerRequestId(details: AuditDetails): AuditDetails {
    return this.metadata.requestId && this.call.request.requestId ? { ...details, custodyRequestId: this.call.request.requestId } : details;
  }
}

/** A refusal that belongs to no tenant's trail: the vendor's chain records who tried what. */
async function refuseForVendor(parts: KeyServiceParts, call: ServiceCall, action: AuditAction, requestedTenantId: string, error: AppError): Promise<never> {
  await auditOrUnavailable(() =>
    parts.committer.append({
      tenantId: null,
      actor: actorOf(call),
      action,
      target: { type: "tenant", id: requestedTenantId },
      outcome: "denied",
      request: call.request,
      details: { code: error.code },
      requiresAccess: false,
    }),
  );
  throw error;
}

async function auditOrUnavailable<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof AuditCommitError)) logger.error(errorFields(error), "could not record a key-service audit event");
    if (error instanceof AuditCommitError && error.unavailable) {
      throw new AppError("unavailable", "Custody cannot reach its database, so it could not record this operation in the audit trail and did not perform it. Retry after the Retry-After delay.");
    }
    throw new AppError("unavailable", "Custody could not record this operation in the audit trail, so it did not perform it. Try again.");
  }
}

function actorOf(call: ServiceCall): Actor {
  return { type: "service", id: call.credential.id, label: call.credential.name };
}
