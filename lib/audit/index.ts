export { AUDIT_ACTIONS, type AuditAction, VENDOR_CHAIN } from "./actions";
export { type Actor, type AuditInput, appendAuditEvent, recordAuditEvent } from "./trail/append";
export { verifyStoredChain, type ChainReport } from "./integrity/verify-chain";
export {
  type EventFocus,
  listTenantEvents,
  listVendorEvents,
  tenantEvent,
  tenantHeadSeq,
  type TrailOptions,
  vendorEvent,
} from "./query/list-events";
export type { AuditPage } from "./query/query";
