export { AUDIT_ACTIONS, type AuditAction, VENDOR_CHAIN } from "./actions";
export { type Actor, type AuditInput, appendAuditEvent, recordAuditEvent } from "./append";
export { verifyStoredChain, type ChainReport } from "./verify-chain";
export { listTenantEvents, listVendorEvents, type AuditPage } from "./list-events";
