import type { EncryptionContext } from "./types";

/** The encryption-context key that binds every KMS call to one tenant. */
export const TENANT_CONTEXT_KEY = "tenant_id";

export function tenantContext(tenantId: string): EncryptionContext {
  return { [TENANT_CONTEXT_KEY]: tenantId };
}
