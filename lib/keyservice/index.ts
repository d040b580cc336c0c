import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connectionString, getPool } from "@/lib/db/pool";
import { kmsClientFor } from "@/lib/kms";
import { AUDIT_ACTIONS, recordAuditEvent } from "@/lib/audit";
import type { RequestMeta } from "@/lib/http/request-meta";
import { errorFields, log } from "@/lib/log";
import { AuthFailureLimiter, type AuthFailureLimits, DEFAULT_AUTH_FAILURE_LIMITS, type LimitCrossed } from "./auth-limiter";
import { createKeyServiceHandler } from "./handler";
import { KeyService } from "./key-service";

export { API_PREFIX } from "./handler";
export { type AuthFailureLimits, authFailureLimitsOf } from "./auth-limiter";

const logger = log.child({ component: "key-service" });
export { KeyService, type ServiceCall } from "./key-service";

export type RunningKeyService = {
  service: KeyService;
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
};

/** Starts the key service's domain (listener, audit committer) on DATABASE_URL and the configured KMS. */
export async function startKeyService(options: { leaseSeconds: number; authLimits?: AuthFailureLimits }): Promise<RunningKeyService> {
  const service = new KeyService({ pool: getPool(), connectionString: connectionString(), kms: kmsClientFor, leaseSeconds: options.leaseSeconds });
  await service.start();
  const authLimiter = new AuthFailureLimiter(options.authLimits ?? DEFAULT_AUTH_FAILURE_LIMITS, recordRateLimited);
  return { service, handle: createKeyServiceHandler(service, { authLimiter }), stop: () => service.stop() };
}

/** One vendor-chain event per address or credential id and window (the requests themselves are not audited one by one). */
async function recordRateLimited(crossed: LimitCrossed, request: RequestMeta): Promise<void> {
  try {
    await recordAuditEvent({
      tenantId: null,
      actor: { type: "system", id: null, label: "key service" },
      action: AUDIT_ACTIONS.keyServiceAuthRateLimited,
      target: crossed.scope === "credential" ? { type: "service_credential", id: crossed.key } : undefined,
      outcome: "denied",
      request,
      details: { scope: crossed.scope, failures: crossed.limit + 1, windowSeconds: crossed.windowSeconds },
    });
  } catch (error) {
    // Refusing is the safe side; the log keeps the miss.
    logger.error({ ...errorFields(error), scope: crossed.scope }, "could not record a rate limit in the audit trail");
  }
}
