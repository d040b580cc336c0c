// Authorisation: who is calling (Caller, Standing), what they may do in a tenant, and the one
// refusal type with its audit. Below audit's readers and every domain module; it imports only
// the audit trail's append, never lib/tenants.
export { actorOf, type Caller, type Standing, standingOf } from "./caller";
export { deny, FORBIDDEN_MESSAGE, Refusal, refusalAudit, runAudited } from "./refusal";
export { acceptInvitations, grantsAccess } from "./membership";
export { requireTenantRole, type Target } from "./require-role";
export { type TenantChange, tenantChange } from "./tenant-change";
