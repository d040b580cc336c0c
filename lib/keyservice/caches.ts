import type pg from "pg";
import type { AuthCredential } from "@/lib/credentials";
import { type Invalidation, InvalidationListener } from "@/lib/keys/invalidation-listener";
import type { TenantKeyLeases } from "@/lib/keys/leases";
import { loadTenantKeyState, type TenantKeyState } from "@/lib/keys/tenant-key-state";

// The key service's caches of tenant key state and service credentials, and the LISTEN
// connection that invalidates them (and the tenant-key leases) across instances. An entry is
// trusted only while the connection it was read under is still up; a read that began before a
// notification about its id is not kept.

type CacheEntry<T> = { value: T; generation: number; loadedAt: number };

/**
 * How a notification is applied. Production applies it at once; a test delays some to play an
 * instance the NOTIFY has not reached yet.
 */
export type InvalidationGate = (invalidation: Invalidation, apply: () => void) => void;

const AT_ONCE: InvalidationGate = (_invalidation, apply) => apply();

const CREDENTIAL_CACHE_MS = 60_000;
/** Entries per cache: callers choose the ids, so the caches are bounded (oldest out first). */
const MAX_CACHED = 10_000;

export class KeyServiceCaches {
  private readonly listener: InvalidationListener;
  private readonly states = new Map<string, CacheEntry<TenantKeyState>>();
  private readonly stateLoads = new Map<string, Promise<TenantKeyState | null>>();
  private readonly credentials = new Map<string, CacheEntry<AuthCredential>>();
  /** Per-id count of notifications: a read that started before one must not be cached after it. */
  private readonly notified = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    connectionString: string,
    private readonly leases: TenantKeyLeases,
    private readonly stateMaxAgeMs: number,
    gate: InvalidationGate = AT_ONCE,
  ) {
    this.listener = new InvalidationListener(connectionString, (invalidation) => gate(invalidation, () => this.invalidate(invalidation)));
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  get listening(): boolean {
    return this.listener.isHealthy;
  }

  /** The tenant's key state (null: no such tenant); concurrent first reads share one query. */
  async tenantState(tenantId: string): Promise<TenantKeyState | null> {
    const entry = this.states.get(tenantId);
    if (entry && this.listener.trusts(entry.generation) && Date.now() - entry.loadedAt < this.stateMaxAgeMs) return entry.value;
    const loading = this.stateLoads.get(tenantId);
    if (loading) return loading;
    const generation = this.listener.generation;
    const seen = this.notified.get(`tenant:${tenantId}`) ?? 0;
    const load = loadTenantKeyState(this.pool, tenantId)
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

  /** Forgets a tenant's state (a use found it revoked at commit). */
  forgetTenant(tenantId: string): void {
    this.states.delete(tenantId);
  }

  /** Forgets a credential (a use found it revoked at commit). */
  forgetCredential(id: string): void {
    this.bump(`credential:${id}`);
    this.credentials.delete(id);
  }

  /** The credential with this id (null: none), cached for a minute. */
  async credential(id: string, load: () => Promise<AuthCredential | null>): Promise<AuthCredential | null> {
    const notifyKey = `credential:${id}`;
    const entry = this.credentials.get(id);
    if (entry && this.listener.trusts(entry.generation) && Date.now() - entry.loadedAt < CREDENTIAL_CACHE_MS) return entry.value;
    const generation = this.listener.generation;
    const seen = this.notified.get(notifyKey) ?? 0;
    const value = await load();
    if (value !== null && this.listener.trusts(generation) && (this.notified.get(notifyKey) ?? 0) === seen) {
      remember(this.credentials, id, { value, generation, loadedAt: Date.now() });
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
      const { rows } = await this.pool.query<{ id: string }>(
        "SELECT id::text AS id FROM tenants WHERE id = ANY($1::uuid[]) AND access_revoked_at IS NOT NULL",
        [tenants],
      );
      for (const row of rows) this.leases.dropTenant(row.id);
    } catch {
      // The database is unreachable: the state caches are bypassed anyway, and every use checks at commit.
    }
  }
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
}
