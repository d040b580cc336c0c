import "server-only";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { cache } from "react";
import { getDb } from "@/lib/db";
import { currentRequestMeta } from "@/lib/http/current-request";
import { acceptInvitations, type Caller, grantsAccess } from "@/lib/authz";
import type { TenantRoleName } from "@/lib/validation/tenants";
import { authOptions } from "./options";

export type TenantAccess = { tenantId: string; slug: string; name: string; role: TenantRoleName };

/** The signed-in person and what Custody lets them reach, read fresh from the database. */
export type Principal = {
  userId: string;
  email: string;
  name: string | null;
  isVendorAdmin: boolean;
  tenants: TenantAccess[];
};

/** The current request's principal, or null when nobody is signed in. Cached per request. */
export const getPrincipal = cache(async (): Promise<Principal | null> => {
  const session = await getServerSession(authOptions);
  const userId = (session?.user as { id?: string } | undefined)?.id;
  if (!userId) return null;
  const user = await getDb().user.findUnique({
    where: { id: userId },
    select: {
      email: true,
      name: true,
      vendorAdmin: { select: { userId: true } },
      memberships: {
        where: grantsAccess(),
        select: { role: true, acceptedAt: true, tenant: { select: { id: true, slug: true, name: true } } },
        orderBy: { tenant: { name: "asc" } },
      },
    },
  });
  if (!user) return null;
  // An invitation made while this person was already signed in is used from their next page on.
  if (user.memberships.some((m) => m.acceptedAt === null)) await acceptInvitations(getDb(), userId);
  return {
    userId,
    email: user.email,
    name: user.name,
    isVendorAdmin: user.vendorAdmin !== null,
    tenants: user.memberships.map((m) => ({
      tenantId: m.tenant.id,
      slug: m.tenant.slug,
      name: m.tenant.name,
      role: m.role === "ADMIN" ? "admin" : "auditor",
    })),
  };
});

/** The principal, or a redirect to sign-in. */
export async function requirePrincipal(): Promise<Principal> {
  const principal = await getPrincipal();
  if (!principal) redirect("/signin");
  return principal;
}

/**
 * A vendor admin, or a redirect home. Each vendor page calls it itself: Next renders a layout
 * and its page concurrently, so a redirect in the layout alone does not stop the page's queries.
 */
export async function requireVendorAdmin(): Promise<Principal> {
  const principal = await requirePrincipal();
  if (!principal.isVendorAdmin) redirect("/");
  return principal;
}

/** The principal as a data-layer caller for the current request. */
export async function callerFor(principal: Principal): Promise<Caller> {
  return { userId: principal.userId, request: await currentRequestMeta() };
}

/** Where a signed-in person belongs by default. */
export function homePathOf(principal: Principal): string {
  if (principal.isVendorAdmin) return "/vendor";
  if (principal.tenants.length === 1) return `/t/${principal.tenants[0]!.slug}`;
  if (principal.tenants.length > 1) return "/tenants";
  return "/no-access";
}
