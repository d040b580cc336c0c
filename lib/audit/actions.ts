// The action names and the vendor chain, for code that records events. Everything about an
// action is declared in the catalogue (./catalogue.ts); this module only re-exports.
export { AUDIT_ACTIONS, type AuditAction, isAuditAction, VENDOR_CHAIN } from "./catalogue";
