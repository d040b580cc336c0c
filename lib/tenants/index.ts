export { createTenant } from "./create-tenant";
export { findTenantForMember, type TenantContext } from "./find-tenant";
export { listTenants, type TenantSummary } from "./list-tenants";
export { type InvitationState, invitationExpiry, invitationState, resendInvitation } from "./invitations";
export { addMember, changeMemberRole, listMembers, type MemberView, removeMember } from "./members";
