export { createTenantKey } from "./create-tenant-key";
export { listTenantKeyVersions, type TenantKeyVersion, type TenantKeyVersions, type VersionState } from "./list-tenant-key-versions";
export { DEFAULT_QUIET_DAYS, retirement, type Retirement } from "./retirement";
export { retireTenantKey } from "./retire-tenant-key";
export { rotateDueTenantKeys, rotateTenantKey, type RotateResult, type ScheduledRotation } from "./rotate-tenant-key";
export { setRotationSchedule } from "./set-rotation-schedule";
