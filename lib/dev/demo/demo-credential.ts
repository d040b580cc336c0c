import "server-only";
import fs from "node:fs";
import path from "node:path";
import { createServiceCredential, loadCredentialForAuth, parseServiceToken } from "@/lib/credentials";
import { getDb } from "@/lib/db";
import { DEMO_EMAILS, DEMO_TENANT } from "./seed";

const FILE = "demo-service-token";

/**
 * The demo's service credential, so a newcomer can call the key service at once: created by
 * the demo vendor admin on first start (an audited act like any other), restricted to the demo
 * tenant, its token kept in the data folder (0600) so later starts can print it again. Only the
 * demo does this; a real deployment's tokens exist once, in the vendor admin's hands.
 */
export async function demoServiceToken(dataDir: string): Promise<{ token: string; tenantId: string } | null> {
  const db = getDb();
  const tenant = await db.tenant.findUnique({ where: { slug: DEMO_TENANT.slug }, select: { id: true } });
  const vendor = await db.user.findUnique({ where: { email: DEMO_EMAILS.vendorAdmin }, select: { id: true } });
  if (!tenant || !vendor) return null;

  const file = path.join(dataDir, FILE);
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, "utf8").trim();
    const parsed = parseServiceToken(token);
    const credential = parsed ? await loadCredentialForAuth(parsed.id) : null;
    if (credential && !credential.revokedAt) return { token, tenantId: tenant.id };
  }
  const created = await createServiceCredential(
    { userId: vendor.id, request: { sourceIp: null, userAgent: "custody demo seed", requestId: "demo-seed" } },
    { name: "demo-app", scopes: ["wrap", "unwrap", "rekey"], tenantId: tenant.id },
  );
  fs.writeFileSync(file, `${created.token}\n`, { mode: 0o600 });
  return { token: created.token, tenantId: tenant.id };
}
