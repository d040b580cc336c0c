import "server-only";
import { callerFor, getPrincipal } from "@/lib/auth/principal";
import { findTenantForMember } from "@/lib/tenants";

// The route handlers under /t/[slug]/audit/integrity answer only the tenant's members; anyone
// else, signed in or not, gets the same 404 as for a tenant that does not exist.

export async function routeMember(slug: string) {
  const principal = await getPrincipal();
  if (!principal) return null;
  const caller = await callerFor(principal);
  const tenant = await findTenantForMember(caller, slug);
  return tenant ? { caller, tenant } : null;
}

export function notFoundResponse(): Response {
  return Response.json({ error: { code: "not_found", message: "Not found." } }, { status: 404, headers: { "cache-control": "no-store" } });
}
