export { getKmsKey, listKmsKeys, type KeyView, type TenantKeyOverview } from "./list-keys";
export { removeKmsKey, setKeyGrants } from "./manage-key";
export { registerKmsKey } from "./register-kms-key";
export { restoreAccess, type RestoreResult } from "./restore-access";
export { REVOCATION_CHANNEL } from "./revocation-channel";
export { revokeAccess, type RevokeResult } from "./revoke-access";
export { PROPAGATION_WINDOW_MS, verifyKmsKey, type VerifyOptions, type VerifyProgress, type VerifyResult } from "./verify-kms-key";
export type { VerifyStep } from "./verify-steps";
export {
  listTenantKeyVersions,
  retireTenantKey,
  rotateDueTenantKeys,
  rotateTenantKey,
  setRotationSchedule,
  type TenantKeyVersion,
  type TenantKeyVersions,
} from "./versions";
