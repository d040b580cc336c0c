export { rollUpAll, rollUpChain, rollUpChainBatch, type ChainRollUp } from "./roll-up";
export { getTenantUsage, type TenantUsage, type TopActor, type TopLabel, type KeyUse, type ActivityRow, type Freshness } from "./tenant-usage";
export { getVendorUsage, type VendorUsage, type TenantUsageRow } from "./vendor-usage";
