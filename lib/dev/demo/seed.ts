import "server-only";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { getDb } from "@/lib/db";
import type { RequestMeta } from "@/lib/http/request-meta";

/** How the seed's events show in the audit trail: done at start-up, by the demo seed. */
const SEED_REQUEST: RequestMeta = { sourceIp: null, userAgent: "custody demo seed", requestId: "demo-seed" };
import { addMember, createTenant } from "@/lib/tenants";

export const DEMO_TENANT = { name: "Acme Corp", slug: "acme" } as const;
export const DEMO_EMAILS = {
  vendorAdmin: "vendor@custody.example",
  tenantAdmin: "admin@acme.example",
  tenantAuditor: "auditor@acme.example",
} as const;

/**
 * Seeds the demo once: a vendor admin, and the Acme tenant with an admin and an auditor, made
 * through the same domain functions (and so the same audit events) as the console uses.
 * Returns false when the demo tenant already exists.
 */
export async function seedDemo(): Promise<boolean> {
  const db = getDb();
  if (await db.tenant.findUnique({ where: { slug: DEMO_TENANT.slug } })) return false;

  await grantVendorAdmins([DEMO_EMAILS.vendorAdmin]);
  const vendor = await db.user.findUniqueOrThrow({ where: { email: DEMO_EMAILS.vendorAdmin } });
  const { tenantId } = await createTenant(
    { userId: vendor.id, request: SEED_REQUEST },
    { ...DEMO_TENANT, adminEmail: DEMO_EMAILS.tenantAdmin },
  );
  const admin = await db.user.findUniqueOrThrow({ where: { email: DEMO_EMAILS.tenantAdmin } });
  await addMember({ userId: admin.id, request: SEED_REQUEST }, { tenantId, email: DEMO_EMAILS.tenantAuditor, role: "auditor" });
  return true;
}

/** The demo tenant's own key in the development KMS (created once), or null without the demo tenant. */
export async function demoTenantKey(kmsEndpoint: string, vendorPrincipalArn: string): Promise<string | null> {
  const tenant = await getDb().tenant.findUnique({ where: { slug: DEMO_TENANT.slug } });
  if (!tenant) return null;
  const { ensureDemoKmsKey } = await import("./demo-kms-key");
  return ensureDemoKmsKey({ endpoint: kmsEndpoint, vendorPrincipalArn, tenantId: tenant.id, tenantSlug: tenant.slug });
}
