export { AUDIT_ACTIONS, type AuditAction, VENDOR_CHAIN } from "./actions";
export { type Actor, type AuditInput, appendAuditEvent, recordAuditEvent } from "./append";
export { verifyStoredChain, type ChainReport } from "./verify-chain";
export {
  type EventFocus,
  listTenantEvents,
  listVendorEvents,
  tenantEvent,
  tenantHeadSeq,
  type TrailOptions,
  vendorEvent,
} from "./list-events";
export type { AuditPage } from "./query";
