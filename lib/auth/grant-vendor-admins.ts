import "server-only";
import { AUDIT_ACTIONS, appendAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { NO_REQUEST } from "@/lib/http/request-meta";

/**
 * Makes sure each email has vendor-admin rights (CUSTODY_VENDOR_ADMINS at start-up, or the
 * demo seed). Granting is recorded on the vendor chain; emails that already have it are left be.
 * Returns the emails newly granted.
 */
export async function grantVendorAdmins(emails: string[]): Promise<string[]> {
  const granted: string[] = [];
  for (const email of emails) {
    await getDb().$transaction(async (tx) => {
      const user = await tx.user.upsert({ where: { email }, create: { email }, update: {}, include: { vendorAdmin: true } });
      if (user.vendorAdmin) return;
      await tx.vendorAdmin.create({ data: { userId: user.id } });
      await appendAuditEvent(tx, {
        tenantId: null,
        actor: { type: "system", id: null, label: "custody start-up" },
        action: AUDIT_ACTIONS.vendorAdminGranted,
        target: { type: "user", id: user.id },
        outcome: "success",
        request: NO_REQUEST,
        details: { email },
      });
      granted.push(email);
    });
  }
  return granted;
}
