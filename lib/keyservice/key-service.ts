import "server-only";
import { timingSafeEqual } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import { AuditGroupCommitter } from "@/lib/audit/trail/group-commit";
import { type AuthCredential, hashServiceSecret, loadCredentialForAuth, parseServiceToken } from "@/lib/credentials";
import { noteDatabaseError } from "@/lib/db/health";
import { isDatabaseUnavailable } from "@/lib/db/unavailable";
import type { KeyRef, KmsClient } from "@/lib/kms";
import { TenantKeyLeases } from "@/lib/keys/leases";
import { errorFields, log } from "@/lib/log";
import type {
  BatchRekeyRequest,
  BatchRekeyResponse,
  BatchUnwrapRequest,
  BatchUnwrapResponse,
  BatchWrapRequest,
  BatchWrapResponse,
  RekeyRequest,
  RekeyResponse,
  UnwrapRequest,
  UnwrapResponse,
  WrapRequest,
  WrapResponse,
} from "@/lib/validation/keyservice";
import { type InvalidationGate, KeyServiceCaches } from "./caches";
import type { KeyServiceParts, ServiceCall } from "./call-context";
import { leaseEvents } from "./lease-events";
import { batchRekey } from "./operations/batch-rekey";
import { batchUnwrap } from "./operations/batch-unwrap";
import { batchWrap } from "./operations/batch-wrap";
import { rekey } from "./operations/rekey";
import { unwrap } from "./operations/unwrap";
import { wrap } from "./operations/wrap";
import { UsageRecorder } from "./usage-recorder";

// The key service's domain: who may call (service credentials), which tenant key (cached key
// state, leased material) and the audit event that must commit before any answer leaves.
// HTTP is handler.ts's business; this file knows nothing of requests and responses. It puts
// the parts together; each operation is a file in operations/, its shared steps in
// call-context.ts, the caches in caches.ts, last-used times in usage-recorder.ts.

export type { ServiceCall } from "./call-context";

export type KeyServiceOptions = {
  pool: pg.Pool;
  connectionString: string;
  /** The client for a key's provider (lib/kms: kmsClientFor). */
  kms: (key: KeyRef) => KmsClient;
  leaseSeconds: number;
  /** How LISTEN notifications are applied: at once unless a test holds some back. */
  invalidationGate?: InvalidationGate;
};

const logger = log.child({ component: "key-service" });

export class KeyService {
  private readonly parts: KeyServiceParts;

  constructor(options: KeyServiceOptions) {
    const committer = new AuditGroupCommitter(options.pool, {
      onError: (error) => {
        // An outage is logged once, by lib/db/health.ts, not once per batch.
        if (isDatabaseUnavailable(error)) noteDatabaseError(error);
        else logger.error(errorFields(error), "audit group commit failed; the requests in it were refused");
      },
    });
    const instance = `key service ${os.hostname()}:${process.pid}`;
    const leases = new TenantKeyLeases(options.kms, options.leaseSeconds * 1000, leaseEvents(committer, options.pool, instance));
    const caches = new KeyServiceCaches(options.pool, options.connectionString, leases, options.leaseSeconds * 1000, options.invalidationGate);
    this.parts = { committer, leases, caches, usage: new UsageRecorder(options.pool) };
  }

  async start(): Promise<void> {
    await this.parts.caches.start();
    this.parts.usage.start();
  }

  async stop(): Promise<void> {
    logger.info(this.stats(), "key service stopping");
    this.parts.usage.stopTimer();
    await this.parts.committer.close();
    await this.parts.usage.flush();
    await this.parts.caches.stop();
    this.parts.leases.dropAll();
  }

  /** Figures for benchmarks and health checks; nothing secret. */
  stats() {
    const { leases, caches, committer } = this.parts;
    return { kmsCalls: leases.kmsCalls, leases: leases.size, listenerHealthy: caches.listening, audit: { ...committer.stats } };
  }

  get listening(): boolean {
    return this.parts.caches.listening;
  }

  /** The credential a bearer token belongs to, or null (unknown, wrong secret, revoked). */
  async authenticate(token: string): Promise<AuthCredential | null> {
    const parsed = parseServiceToken(token);
    if (!parsed) return null;
    const credential = await this.parts.caches.credential(parsed.id, () => loadCredentialForAuth(parsed.id));
    if (!credential || credential.revokedAt) return null;
    const presented = hashServiceSecret(parsed.secret);
    if (presented.length !== credential.secretHash.length || !timingSafeEqual(presented, credential.secretHash)) return null;
    this.parts.usage.credentialUsed(credential.id);
    return credential;
  }

  wrap(call: ServiceCall, input: WrapRequest): Promise<WrapResponse> {
    return wrap(this.parts, call, input);
  }

  unwrap(call: ServiceCall, input: UnwrapRequest): Promise<UnwrapResponse> {
    return unwrap(this.parts, call, input);
  }

  rekey(call: ServiceCall, input: RekeyRequest): Promise<RekeyResponse> {
    return rekey(this.parts, call, input);
  }

  batchWrap(call: ServiceCall, input: BatchWrapRequest): Promise<BatchWrapResponse> {
    return batchWrap(this.parts, call, input);
  }

  batchUnwrap(call: ServiceCall, input: BatchUnwrapRequest): Promise<BatchUnwrapResponse> {
    return batchUnwrap(this.parts, call, input);
  }

  batchRekey(call: ServiceCall, input: BatchRekeyRequest): Promise<BatchRekeyResponse> {
    return batchRekey(this.parts, call, input);
  }
}
