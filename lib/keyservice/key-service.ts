import "server-only";
import { randomBytes, timingSafeEqual } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import { type Actor, AUDIT_ACTIONS, type AuditAction } from "@/lib/audit";
import type { AuditDetails } from "@/lib/audit/trail/append";
import { AuditCommitError, AuditGroupCommitter, type HotAuditEvent } from "@/lib/audit/trail/group-commit";
import { type AuthCredential, hashServiceSecret, loadCredentialForAuth, parseServiceToken, touchCredentialsLastUsed } from "@/lib/credentials";
import { noteDatabaseError } from "@/lib/db/health";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import { AppError, type ErrorCode } from "@/lib/errors";
import type { RequestMeta } from "@/lib/http/request-meta";
import { isKmsError, type KmsError, type KmsProvider } from "@/lib/kms";
import { DEK_BYTES, decodeEdek, edekTenantKeyId, InvalidEdekError, openEdek, sealDek } from "@/lib/keys/edek";
import { type Invalidation, InvalidationListener } from "@/lib/keys/invalidation-listener";
import { TenantKeyLeases } from "@/lib/keys/leases";
import { loadTenantKeyState, type TenantKeyRecord, type TenantKeyState } from "@/lib/keys/tenant-key-state";
import { errorFields, log } from "@/lib/log";
import type {
  BatchUnwrapRequest,
  BatchUnwrapResponse,
  BatchWrapRequest,
  BatchWrapResponse,
  CallMetadata,
  Metadata,
  RekeyRequest,
  RekeyResponse,
  ServiceScope,
  UnwrapRequest,
  UnwrapResponse,
  WrapRequest,
  WrapResponse,
} from "@/lib/validation/keyservice";
import { batchUnwrapItemSchema, batchWrapItemSchema } from "@/lib/validation/keyservice";

// The key service's domain: who may call (service credentials), which tenant key (cached key
// state, leased material) and the audit event that must commit before any answer leaves.
// HTTP is handler.ts's business; this file knows nothing of requests and responses.

export type KeyServiceOptions = {
  pool: pg.Pool;
  connectionString: string;
  kms: () => KmsProvider;
  leaseSeconds: number;
};

/** An authenticated call: the credential and what the request says about itself. */
export type ServiceCall = { credential: AuthCredential; request: RequestMeta };

type CacheEntry<T> = { value: T; generation: number; loadedAt: number };

const CREDENTIAL_CACHE_MS = 60_000;
/** Entries per cache: callers choose the ids, so the caches are bounded (oldest out first). */
const MAX_CACHED = 10_000;
const KEY_SERVICE_ERROR_PREFIX = "The key service could not use this key:";
const LAST_USED_FLUSH_MS = 5_000;
const logger = log.child({ component: "key-service" });

/** Refusals a caller caused; everything else that fails is a failure on Custody's or the KMS's side. */
const DENIED: ReadonlySet<ErrorCode> = new Set(["bad_request", "forbidden", "access_revoked", "invalid_edek", "no_key_configured", "unknown_tenant"]);

export function kmsErrorCode(error: KmsError): ErrorCode {
  if (error.kind === "throttled") return "kms_throttled";
  // A proxy or endpoint answering instead of KMS is a path problem, like an unreachable KMS.
  if (error.kind === "unreachable" || error.kind === "bad_response") return "kms_unreachable";
  return "kms_denied";
}

/** Refusals that are the vendor's to fix (its own role, credentials or quota), not the tenant's. */
const VENDOR_SIDE: ReadonlySet<KmsError["kind"]> = new Set(["credentials", "access_denied_vendor", "quota"]);

/** Said to the vendor's application (the tenant's admins see the KMS's own reason on their key page). */
function kmsAppError(error: KmsError): AppError {
  const code = kmsErrorCode(error);
  if (code === "kms_throttled") return new AppError(code, "The tenant's KMS is throttling Custody. Retry after the Retry-After delay.");
  if (code === "kms_unreachable") return new AppError(code, "Custody could not reach the tenant's KMS. Retry after the Retry-After delay.");
  if (VENDOR_SIDE.has(error.kind)) {
    return new AppError(
      code,
      "KMS refused Custody because of the vendor's own AWS set-up (its credentials, its role's IAM policy, or an account quota): a configuration problem on the vendor's side, not the tenant's.",
    );
  }
  return new AppError(
    code,
    "The tenant's KMS refused Custody: the key is disabled or scheduled for deletion, or its policy or grant no longer admits Custody. Only the tenant can change that; its admins see the reason on their key page.",
  );
}

export class KeyService {
  private readonly committer: AuditGroupCommitter;
  private readonly listener: InvalidationListener;
  private readonly leases: TenantKeyLeases;
  private readonly states = new Map<string, CacheEntry<TenantKeyState>>();
  private readonly stateLoads = new Map<string, Promise<TenantKeyState | null>>();
  private readonly credentials = new Map<string, CacheEntry<AuthCredential>>();
  /** Per-id count of notifications: a read that started before one must not be cached after it. */
  private readonly notified = new Map<string, number>();
  private readonly credentialLastUsed = new Map<string, Date>();
  private readonly kmsKeyLastUsed = new Map<string, Date>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly instance = `key service ${os.hostname()}:${process.pid}`;

  constructor(private readonly options: KeyServiceOptions) {
    this.committer = new AuditGroupCommitter(options.pool, {
      onError: (error) => {
        // An outage is logged once, by lib/db/health.ts, not once per batch.
        if (isDatabaseUnavailable(error)) noteDatabaseError(error);
        else logger.error(errorFields(error), "audit group commit failed; the requests in it were refused");
      },
    });
    this.listener = new InvalidationListener(options.connectionString, (invalidation) => this.invalidate(invalidation));
    this.leases = new TenantKeyLeases(options.kms, options.leaseSeconds * 1000, {
      acquired: (tenantId, key, renewal) => {
        this.leaseEvent(tenantId, key, AUDIT_ACTIONS.leaseAcquired, "success", { renewal });
        this.clearKmsKeyError(key.kmsKeyId);
      },
      failed: (tenantId, key, error, renewal) => {
        this.leaseEvent(tenantId, key, AUDIT_ACTIONS.leaseFailed, "failure", { renewal, code: kmsErrorCode(error), reason: error.kind });
        this.recordKmsKeyError(key.kmsKeyId, error);
      },
    });
  }

  async start(): Promise<void> {
    await this.listener.start();
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    logger.info(this.stats(), "key service stopping");
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.committer.close();
    await this.flushLastUsed();
    await this.listener.stop();
    this.leases.dropAll();
  }

  /** Figures for benchmarks and health checks; nothing secret. */
  stats() {
    return { kmsCalls: this.leases.kmsCalls, leases: this.leases.size, listenerHealthy: this.listener.isHealthy, audit: { ...this.committer.stats } };
  }

  get listening(): boolean {
    return this.listener.isHealthy;
  }

  // --- Authentication ------------------------------------------------------------------------

  /** The credential a bearer token belongs to, or null (unknown, wrong secret, revoked). */
  async authenticate(token: string): Promise<AuthCredential | null> {
    const parsed = parseServiceToken(token);
    if (!parsed) return null;
    const credential = await this.cached(this.credentials, `credential:${parsed.id}`, parsed.id, CREDENTIAL_CACHE_MS, () => loadCredentialForAuth(parsed.id));
    if (!credential || credential.revokedAt) return null;
    const presented = hashServiceSecret(parsed.secret);
    if (presented.length !== credential.secretHash.length || !timingSafeEqual(presented, credential.secretHash)) return null;
    this.credentialLastUsed.set(credential.id, new Date());
    return credential;
  }

  // --- Operations ----------------------------------------------------------------------------

  async wrap(call: ServiceCall, input: WrapRequest): Promise<WrapResponse> {
    const action = AUDIT_ACTIONS.keyWrap;
    const details = itemDetails(input.metadata);
    const state = await this.admit(call, input.tenantId, "wrap", action, input.metadata, details);
    const primary = await this.primaryKey(call, state, action, input.metadata, details);
    const material = await this.material(call, state, primary, action, input.metadata, details);
    const dek = randomBytes(DEK_BYTES);
    const edek = sealDek(material, primary.id, { tenantId: state.tenantId, dataLabel: input.metadata.dataLabel }, dek);
    await this.commitUse(call, state, primary, action, input.metadata, details);
    return { dek: dek.toString("base64"), edek: edek.toString("base64"), tenantKeyId: primary.id };
  }

  async unwrap(call: ServiceCall, input: UnwrapRequest): Promise<UnwrapResponse> {
    const action = AUDIT_ACTIONS.keyUnwrap;
    const details = itemDetails(input.metadata);
    const state = await this.admit(call, input.tenantId, "unwrap", action, input.metadata, details);
    const { dek, key } = await this.open(call, state, input.edek, input.metadata.dataLabel, action, input.metadata, details);
    await this.commitUse(call, state, key, action, input.metadata, details);
    return { dek: dek.toString("base64"), tenantKeyId: key.id };
  }

  async rekey(call: ServiceCall, input: RekeyRequest): Promise<RekeyResponse> {
    const action = AUDIT_ACTIONS.keyRekey;
    const details = itemDetails(input.metadata);
    const state = await this.admit(call, input.tenantId, "rekey", action, input.metadata, details);
    const { dek, key: from } = await this.open(call, state, input.edek, input.metadata.dataLabel, action, input.metadata, details);
    try {
      const primary = await this.primaryKey(call, state, action, input.metadata, { ...details, fromTenantKeyId: from.id });
      const material = await this.material(call, state, primary, action, input.metadata, details);
      const edek = sealDek(material, primary.id, { tenantId: state.tenantId, dataLabel: input.metadata.dataLabel }, dek);
      await this.commitUse(call, state, primary, action, input.metadata, { ...details, fromTenantKeyId: from.id });
      return { edek: edek.toString("base64"), tenantKeyId: primary.id };
    } finally {
      dek.fill(0);
    }
  }

  async batchWrap(call: ServiceCall, input: BatchWrapRequest): Promise<BatchWrapResponse> {
    const action = AUDIT_ACTIONS.keyBatchWrap;
    const details: AuditDetails = { ...callDetails(input.metadata), items: input.items.length };
    const state = await this.admit(call, input.tenantId, "wrap", action, input.metadata, details);
    const primary = await this.primaryKey(call, state, action, input.metadata, details);
    const material = await this.material(call, state, primary, action, input.metadata, details);

    const labels = new Set<string>();
    const objectIds: string[] = [];
    const failedItems: number[] = [];
    const deks = randomBytes(DEK_BYTES * input.items.length);
    const results: BatchWrapResponse["results"] = input.items.map((raw, index) => {
      const item = batchWrapItemSchema.safeParse(raw);
      if (!item.success) {
        failedItems.push(index);
        return { ok: false as const, error: { code: "bad_request" as const, message: `Item ${index}: ${item.error.issues[0]?.message ?? "malformed item"}` } };
      }
      labels.add(item.data.dataLabel);
      if (item.data.objectId) objectIds.push(item.data.objectId);
      const dek = deks.subarray(index * DEK_BYTES, (index + 1) * DEK_BYTES);
      const edek = sealDek(material, primary.id, { tenantId: state.tenantId, dataLabel: item.data.dataLabel }, dek);
      return { ok: true as const, dek: dek.toString("base64"), edek: edek.toString("base64"), tenantKeyId: primary.id };
    });
    deks.fill(0);
    await this.commitUse(call, state, primary, action, input.metadata, { ...details, ...batchDetails(labels, objectIds, failedItems) }, failedItems.length === input.items.length);
    return { results };
  }

  async batchUnwrap(call: ServiceCall, input: BatchUnwrapRequest): Promise<BatchUnwrapResponse> {
    const action = AUDIT_ACTIONS.keyBatchUnwrap;
    const details: AuditDetails = { ...callDetails(input.metadata), items: input.items.length };
    const state = await this.admit(call, input.tenantId, "unwrap", action, input.metadata, details);

    const labels = new Set<string>();
    const objectIds: string[] = [];
    const failedItems: number[] = [];
    const tenantKeys = new Set<string>();
    const results: BatchUnwrapResponse["results"] = [];
    let lastKey: TenantKeyRecord | null = null;
    for (const [index, raw] of input.items.entries()) {
      const item = batchUnwrapItemSchema.safeParse(raw);
      if (!item.success) {
        failedItems.push(index);
        results.push({ ok: false, error: { code: "bad_request", message: `Item ${index}: ${item.error.issues[0]?.message ?? "malformed item"}` } });
        continue;
      }
      labels.add(item.data.dataLabel);
      if (item.data.objectId) objectIds.push(item.data.objectId);
      let key: TenantKeyRecord;
      let edek: Buffer;
      try {
        edek = decodeEdek(item.data.edek);
        key = this.usableKey(state, edekTenantKeyId(edek));
      } catch (error) {
        failedItems.push(index);
        results.push({ ok: false, error: { code: "invalid_edek", message: `Item ${index}: ${(error as Error).message}` } });
        continue;
      }
      // A KMS failure concerns every item under that key: the whole call fails, as for a single unwrap.
      const material = await this.material(call, state, key, action, input.metadata, { ...details, ...batchDetails(labels, objectIds, failedItems) });
      try {
        const dek = openEdek(material, { tenantId: state.tenantId, dataLabel: item.data.dataLabel }, edek);
        results.push({ ok: true, dek: dek.toString("base64"), tenantKeyId: key.id });
        dek.fill(0);
        tenantKeys.add(key.id);
        lastKey = key;
      } catch (error) {
        if (!(error instanceof InvalidEdekError)) throw error;
        failedItems.push(index);
        results.push({ ok: false, error: { code: "invalid_edek", message: `Item ${index}: ${error.message}` } });
      }
    }
    await this.commitUse(
      call,
      state,
      lastKey,
      action,
      input.metadata,
      { ...details, ...batchDetails(labels, objectIds, failedItems), tenantKeyIds: [...tenantKeys] },
      failedItems.length === input.items.length,
    );
    return { results };
  }

  // --- Steps shared by the operations ---------------------------------------------------------

  /**
   * Credential may act on this tenant with this scope, tenant exists, access not revoked.
   * Refusals are audited: in the tenant's chain once the credential may act on the tenant at
   * all, otherwise in the vendor's chain without the caller's text, so a credential cannot
   * learn whether another tenant exists or write into its trail.
   */
  private async admit(call: ServiceCall, requestedTenantId: string, scope: ServiceScope, action: AuditAction, metadata: CallMetadata, details: AuditDetails): Promise<TenantKeyState> {
    const { credential } = call;
    const tenantId = requestedTenantId.toLowerCase();
    if (credential.tenantId !== null && credential.tenantId !== tenantId) {
      await this.refuseForVendor(call, action, tenantId, new AppError("forbidden", "This credential is restricted to another tenant."));
    }
    const state = await this.tenantState(tenantId);
    if (!state) return this.refuseForVendor(call, action, tenantId, new AppError("unknown_tenant", "No tenant has this id."));
    if (!credential.scopes.includes(scope)) {
      await this.refuse(call, state, action, metadata, details, new AppError("forbidden", `This credential does not have the "${scope}" scope.`));
    }
    if (state.revoked) {
      this.leases.dropTenant(state.tenantId);
      await this.refuse(call, state, action, metadata, details, new AppError("access_revoked", "The tenant has revoked the vendor's access to its key."));
    }
    return state;
  }

  /** A refusal that belongs to no tenant's trail: the vendor's chain records who tried what. */
  private async refuseForVendor(call: ServiceCall, action: AuditAction, requestedTenantId: string, error: AppError): Promise<never> {
    await this.auditOrUnavailable(() =>
      this.committer.append({
        tenantId: null,
        actor: this.actor(call),
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

  private async primaryKey(call: ServiceCall, state: TenantKeyState, action: AuditAction, metadata: CallMetadata, details: AuditDetails): Promise<TenantKeyRecord> {
    if (state.primary) return state.primary;
    return this.refuse(call, state, action, metadata, details, new AppError("no_key_configured", "The tenant has no verified KMS key yet; its admin must register and verify one."));
  }

  private usableKey(state: TenantKeyState, tenantKeyId: string): TenantKeyRecord {
    const key = state.usable.get(tenantKeyId);
    // Another tenant's EDEK, or one under a key this tenant retired: the same answer, naming nothing.
    if (!key) throw new InvalidEdekError("The EDEK was not issued for this tenant, or its tenant key is no longer usable.");
    return key;
  }

  private async open(call: ServiceCall, state: TenantKeyState, edekBase64: string, dataLabel: string, action: AuditAction, metadata: CallMetadata, details: AuditDetails) {
    let key: TenantKeyRecord;
    const edek = decodeEdek(edekBase64);
    try {
      key = this.usableKey(state, edekTenantKeyId(edek));
    } catch (error) {
      return this.refuse(call, state, action, metadata, details, new AppError("invalid_edek", (error as Error).message));
    }
    const material = await this.material(call, state, key, action, metadata, details);
    try {
      return { dek: openEdek(material, { tenantId: state.tenantId, dataLabel }, edek), key };
    } catch (error) {
      if (!(error instanceof InvalidEdekError)) throw error;
      return this.refuse(call, state, action, metadata, { ...details, tenantKeyId: key.id }, new AppError("invalid_edek", error.message));
    }
  }

  private async material(call: ServiceCall, state: TenantKeyState, key: TenantKeyRecord, action: AuditAction, metadata: CallMetadata, details: AuditDetails): Promise<Buffer> {
    try {
      return await this.leases.material(state.tenantId, key);
    } catch (error) {
      if (!isKmsError(error)) throw error;
      return this.refuse(call, state, action, metadata, { ...details, tenantKeyId: key.id, reason: error.kind }, kmsAppError(error));
    }
  }

  /** Records a refusal (committed before the answer) and throws it. */
  private async refuse(call: ServiceCall, state: TenantKeyState, action: AuditAction, metadata: CallMetadata, details: AuditDetails, error: AppError): Promise<never> {
    await this.auditOrUnavailable(() =>
      this.committer.append({
        tenantId: state.tenantId,
        actor: this.actor(call),
        action,
        target: { type: "tenant", id: state.tenantId },
        outcome: DENIED.has(error.code) ? "denied" : "failure",
        request: this.request(call, metadata),
        details: this.withServerRequestId(call, metadata, { ...details, code: error.code }),
        requiresAccess: false,
      }),
    );
    throw error;
  }

  /** Commits a use of the tenant's key; if the tenant was revoked meanwhile it is recorded and answered as refused. */
  private async commitUse(call: ServiceCall, state: TenantKeyState, key: TenantKeyRecord | null, action: AuditAction, metadata: CallMetadata, details: AuditDetails, allFailed = false): Promise<void> {
    const event: HotAuditEvent = {
      tenantId: state.tenantId,
      actor: this.actor(call),
      action,
      target: key ? { type: "tenant_key", id: key.id } : { type: "tenant", id: state.tenantId },
      outcome: allFailed ? "denied" : "success",
      request: this.request(call, metadata),
      details: this.withServerRequestId(call, metadata, key ? { ...details, tenantKeyId: key.id } : details),
      requiresAccess: true,
    };
    const result = await this.auditOrUnavailable(() => this.committer.append(event));
    if (result.revoked) {
      this.leases.dropTenant(state.tenantId);
      this.states.delete(state.tenantId);
      throw new AppError("access_revoked", "The tenant has revoked the vendor's access to its key.");
    }
    if (key) this.kmsKeyLastUsed.set(key.kmsKeyId, new Date());
  }

  private async auditOrUnavailable<T>(write: () => Promise<T>): Promise<T> {
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

  private actor(call: ServiceCall): Actor {
    return { type: "service", id: call.credential.id, label: call.credential.name };
  }

  /**
   * The caller's own request id, when given, is the event's request id (it is what their logs
   * know); Custody's (the X-Request-Id it answered with) then goes into the details.
   */
  private request(call: ServiceCall, metadata: CallMetadata): RequestMeta {
    return metadata.requestId ? { ...call.request, requestId: metadata.requestId } : call.request;
  }

  private withServerRequestId(call: ServiceCall, metadata: CallMetadata, details: AuditDetails): AuditDetails {
    return metadata.requestId && call.request.requestId ? { ...details, custodyRequestId: call.request.requestId } : details;
  }

  // --- Caches --------------------------------------------------------------------------------

  private async tenantState(tenantId: string): Promise<TenantKeyState | null> {
    const entry = this.states.get(tenantId);
    if (entry && this.listener.trusts(entry.generation) && Date.now() - entry.loadedAt < this.options.leaseSeconds * 1000) return entry.value;
    const loading = this.stateLoads.get(tenantId);
    if (loading) return loading;
    const generation = this.listener.generation;
    const seen = this.notified.get(`tenant:${tenantId}`) ?? 0;
    const load = loadTenantKeyState(this.options.pool, tenantId)
      .then((state) => {
        // Only cache what was read inside one trusted listener lifetime, with no notification
        // for this tenant since the read began, and only tenants that exist.
        if (state && this.listener.trusts(generation) && (this.notified.get(`tenant:${tenantId}`) ?? 0) === seen) remember(this.states, tenantId, { value: state, generation, loadedAt: Date.now() });
        if (state?.revoked) this.leases.dropTenant(tenantId);
        return state;
      })
      .finally(() => this.stateLoads.delete(tenantId));
    this.stateLoads.set(tenantId, load);
    return load;
  }

  private async cached<T>(cache: Map<string, CacheEntry<T>>, notifyKey: string, id: string, maxAgeMs: number, load: () => Promise<T>): Promise<T> {
    const entry = cache.get(id);
    if (entry && this.listener.trusts(entry.generation) && Date.now() - entry.loadedAt < maxAgeMs) return entry.value;
    const generation = this.listener.generation;
    const seen = this.notified.get(notifyKey) ?? 0;
    const value = await load();
    if (value !== null && this.listener.trusts(generation) && (this.notified.get(notifyKey) ?? 0) === seen) {
      remember(cache, id, { value, generation, loadedAt: Date.now() });
    }
    return value;
  }

  private bump(key: string): void {
    this.notified.set(key, (this.notified.get(key) ?? 0) + 1);
  }

  private invalidate(invalidation: Invalidation): void {
    switch (invalidation.kind) {
      case "revocation":
        this.bump(`tenant:${invalidation.tenantId}`);
        this.leases.dropTenant(invalidation.tenantId);
        this.states.delete(invalidation.tenantId);
        this.stateLoads.delete(invalidation.tenantId);
        break;
      case "key_state":
        this.bump(`tenant:${invalidation.tenantId}`);
        this.states.delete(invalidation.tenantId);
        this.stateLoads.delete(invalidation.tenantId);
        break;
      case "credential":
        this.bump(`credential:${invalidation.credentialId}`);
        this.credentials.delete(invalidation.credentialId);
        break;
      case "all":
        this.states.clear();
        this.stateLoads.clear();
        this.credentials.clear();
        void this.catchUp();
        break;
    }
  }

  /** After a reconnect: drop at once the leases of tenants revoked while notifications could not arrive. */
  private async catchUp(): Promise<void> {
    const tenants = this.leases.leasedTenants();
    if (tenants.length === 0) return;
    try {
      const { rows } = await this.options.pool.query<{ id: string }>(
        "SELECT id::text AS id FROM tenants WHERE id = ANY($1::uuid[]) AND access_revoked_at IS NOT NULL",
        [tenants],
      );
      for (const row of rows) this.leases.dropTenant(row.id);
    } catch {
      // The database is unreachable: the state caches are bypassed anyway, and every use checks at commit.
    }
  }

  // --- Bookkeeping ---------------------------------------------------------------------------

  private leaseEvent(tenantId: string, key: TenantKeyRecord, action: AuditAction, outcome: "success" | "failure", details: AuditDetails): void {
    this.committer
      .append({
        tenantId,
        actor: { type: "system", id: null, label: this.instance },
        action,
        target: { type: "kms_key", id: key.kmsKeyId },
        outcome,
        request: { sourceIp: null, userAgent: null, requestId: null },
        details: { ...details, tenantKeyId: key.id, arn: key.kmsKeyArn },
        requiresAccess: false,
      })
      .catch(() => logger.error({ tenantId, action }, "could not record a lease event"));
  }

  /** Shown on the tenant's key page until the key works again (or is verified). */
  private recordKmsKeyError(kmsKeyId: string, error: KmsError): void {
    this.options.pool
      .query("UPDATE kms_keys SET last_error = $2, last_error_at = now() WHERE id = $1::uuid", [kmsKeyId, `${KEY_SERVICE_ERROR_PREFIX} ${error.message}`])
      .catch(() => logger.error({ kmsKeyId }, "could not record a KMS key error"));
  }

  private clearKmsKeyError(kmsKeyId: string): void {
    this.options.pool
      .query("UPDATE kms_keys SET last_error = NULL, last_error_at = NULL WHERE id = $1::uuid AND starts_with(last_error, $2)", [kmsKeyId, KEY_SERVICE_ERROR_PREFIX])
      .catch(() => logger.error({ kmsKeyId }, "could not clear a KMS key error"));
  }

  private async flushLastUsed(): Promise<void> {
    const credentials = new Map(this.credentialLastUsed);
    const kmsKeys = new Map(this.kmsKeyLastUsed);
    this.credentialLastUsed.clear();
    this.kmsKeyLastUsed.clear();
    try {
      if (credentials.size > 0) await touchCredentialsLastUsed(credentials);
      if (kmsKeys.size > 0) {
        await this.options.pool.query(
          `UPDATE kms_keys k SET last_used_at = GREATEST(k.last_used_at, u.at)
             FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id`,
          [[...kmsKeys.keys()], [...kmsKeys.values()].map((d) => d.toISOString())],
        );
      }
    } catch (error) {
      // Kept for the next flush (a newer use may have arrived meanwhile: the later time wins).
      keepLatest(this.credentialLastUsed, credentials);
      keepLatest(this.kmsKeyLastUsed, kmsKeys);
      if (isDatabaseUnavailable(error)) noteDatabaseError(error);
      else logger.warn(errorFields(error), "could not record last-used times");
    }
  }
}

function keepLatest(into: Map<string, Date>, from: Map<string, Date>): void {
  for (const [id, at] of from) {
    const current = into.get(id);
    if (!current || current < at) into.set(id, at);
  }
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
}

function callDetails(metadata: CallMetadata): AuditDetails {
  const details: AuditDetails = {};
  if (metadata.actor) details.onBehalfOf = metadata.actor;
  if (metadata.reason) details.reason = metadata.reason;
  return details;
}

function itemDetails(metadata: Metadata): AuditDetails {
  const details = callDetails(metadata);
  details.dataLabel = metadata.dataLabel;
  if (metadata.objectId) details.objectId = metadata.objectId;
  return details;
}

function batchDetails(labels: Set<string>, objectIds: string[], failedItems: number[]): AuditDetails {
  return { dataLabels: [...labels], objectIds, failedItems };
}
