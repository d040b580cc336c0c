import "server-only";
import { isKmsError, type KmsClient, KmsError } from "@/lib/kms";
import type { TenantKeyRecord } from "./tenant-key-state";

// Leased tenant keys. A tenant key is unwrapped by the tenant's KMS key at most once per lease
// per instance and held only in this process's memory; wraps and unwraps inside the lease
// make no KMS call. Concurrent first requests share one KMS call. A lease is renewed in the
// background once it is 80% through; a renewal the KMS refuses outright (key disabled, grant
// or policy removed) ends the lease at once, which is how a revocation made in the customer's
// own KMS bites; a renewal that fails for a passing reason (throttling, network) keeps the
// lease until it expires. Dropped leases are zeroed (a second later, see forget).

export type LeaseEvents = {
  acquired(tenantId: string, key: TenantKeyRecord, renewal: boolean): void;
  failed(tenantId: string, key: TenantKeyRecord, error: KmsError, renewal: boolean): void;
};

type Lease = { tenantId: string; material: Buffer; refreshAt: number; expiresAt: number };

/** After a failed KMS call, requests get the same answer for this long instead of each calling the KMS. */
const FAILURE_HOLD_MS = 1000;
const RENEW_AT = 0.8;
const ZERO_AFTER_MS = 1000;
/** Refusals that mean the customer withdrew access: they end a lease at once. */
const ENDS_LEASE = new Set(["access_denied", "access_denied_explicit", "key_disabled", "invalid_state", "not_found", "invalid_ciphertext", "incorrect_key"]);

export class TenantKeyLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private readonly failures = new Map<string, { tenantId: string; error: KmsError; until: number }>();
  /** Bumped when a tenant's leases are dropped, so a KMS answer already on its way is not kept. */
  private readonly epochs = new Map<string, number>();
  kmsCalls = 0;

  constructor(
    /** The client of a key's provider (per-key resolution). */
    private readonly kms: (key: TenantKeyRecord["kmsKey"]) => KmsClient,
    private readonly leaseMs: number,
    private readonly events: LeaseEvents,
  ) {}

  /** The tenant key's material, from the lease or from one KMS Decrypt. Throws KmsError. */
  async material(tenantId: string, key: TenantKeyRecord): Promise<Buffer> {
    const now = Date.now();
    const lease = this.leases.get(key.id);
    if (lease && lease.tenantId === tenantId && now < lease.expiresAt) {
      if (now >= lease.refreshAt && !this.pending.has(key.id) && !this.failing(key.id, now)) {
        this.acquire(tenantId, key, true).catch(() => {});
      }
      return lease.material;
    }
    if (lease) this.forget(key.id);
    const failure = this.failing(key.id, now);
    if (failure) throw failure;
    return this.pending.get(key.id) ?? this.acquire(tenantId, key, false);
  }

  /** Drops and zeroes every lease of a tenant (a revocation). */
  dropTenant(tenantId: string): void {
    this.epochs.set(tenantId, (this.epochs.get(tenantId) ?? 0) + 1);
    for (const [id, lease] of this.leases) if (lease.tenantId === tenantId) this.forget(id);
    for (const [id, failure] of this.failures) if (failure.tenantId === tenantId) this.failures.delete(id);
  }

  dropAll(): void {
    for (const tenantId of new Set([...this.leases.values()].map((l) => l.tenantId))) this.dropTenant(tenantId);
  }

  /** Tenants holding a lease (for the catch-up read after a reconnect). */
  leasedTenants(): string[] {
    return [...new Set([...this.leases.values()].map((l) => l.tenantId))];
  }

  get size(): number {
    return this.leases.size;
  }

  private failing(keyId: string, now: number): KmsError | undefined {
    const failure = this.failures.get(keyId);
    if (failure && now < failure.until) return failure.error;
    if (failure) this.failures.delete(keyId);
    return undefined;
  }

  private forget(keyId: string): void {
    const lease = this.leases.get(keyId);
    this.leases.delete(keyId);
    if (!lease) return;
    // Not at once: a request handed this material a moment ago may not have used it yet (its
    // continuation can run after ours), and must not wrap under a zeroed key. It is out of the
    // lease table already, so nothing new gets it; a second later nothing can still hold it.
    const material = lease.material;
    setTimeout(() => material.fill(0), ZERO_AFTER_MS).unref();
  }

  private acquire(tenantId: string, key: TenantKeyRecord, renewal: boolean): Promise<Buffer> {
    const epoch = this.epochs.get(tenantId) ?? 0;
    const call = (async () => {
      this.kmsCalls++;
      try {
        const material = await this.kms(key.kmsKey).unwrapTenantKey(key.kmsKey, key.wrappedKey, { tenantId });
        if (material.length !== 32) throw new KmsError("invalid_ciphertext", "unwrap", "UnexpectedKeyLength");
        if ((this.epochs.get(tenantId) ?? 0) !== epoch) {
          // Dropped while the KMS answered: hand it to the callers already waiting, keep nothing.
          return material;
        }
        const now = Date.now();
        this.forget(key.id);
        this.leases.set(key.id, { tenantId, material, refreshAt: now + this.leaseMs * RENEW_AT, expiresAt: now + this.leaseMs });
        this.failures.delete(key.id);
        this.events.acquired(tenantId, key, renewal);
        return material;
      } catch (error) {
        const kmsError = isKmsError(error) ? error : new KmsError("unreachable", "unwrap", "UnexpectedError");
        this.failures.set(key.id, { tenantId, error: kmsError, until: Date.now() + FAILURE_HOLD_MS });
        if (!renewal || ENDS_LEASE.has(kmsError.kind)) this.forget(key.id);
        this.events.failed(tenantId, key, kmsError, renewal);
        throw kmsError;
      } finally {
        this.pending.delete(key.id);
      }
    })();
    this.pending.set(key.id, call);
    return call;
  }
}
