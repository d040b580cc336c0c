export { TENANT_CONTEXT_KEY, tenantContext } from "./encryption-context";
export { grantInstructions, type GrantInstructions } from "./grant-instructions";
export { getKmsKey, listKmsKeys, type KeyView, type TenantKeyOverview } from "./list-keys";
export { registerKmsKey } from "./register-kms-key";
export { restoreAccess, type RestoreResult } from "./restore-access";
export { REVOCATION_CHANNEL } from "./revocation-channel";
export { revokeAccess, type RevokeResult } from "./revoke-access";
export { verifyKmsKey, type VerifyResult } from "./verify-kms-key";
export type { VerifyStep } from "./verify-steps";
