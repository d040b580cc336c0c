import "server-only";
import { notFound } from "next/navigation";
import { callerFor, requirePrincipal } from "@/lib/auth/principal";
import { findTenantForMember } from "@/lib/tenants";

/** The tenant of a console URL and the signed-in member; anyone else gets a 404, never a hint it exists. */
export async function loadTenantContext(slug: string) {
  const principal = await requirePrincipal();
  const caller = await callerFor(principal);
  const tenant = await findTenantForMember(caller, slug);
  if (!tenant) notFound();
  return { principal, caller, tenant };
}
