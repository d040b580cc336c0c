import "server-only";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/authz";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { scopesFromDb } from "./shared";
import { tokenPrefixOf } from "./token";

export type CredentialView = {
  id: string;
  /** The non-secret start of its tokens (`csk_1a2b3c4d…`), to match a token to its credential. */
  tokenPrefix: string;
  name: string;
  scopes: ServiceScope[];
  tenant: { id: string; name: string; slug: string } | null;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  status: "active" | "revoked";
  revokedAt: Date | null;
  revokedBy: string | null;
  rotatedFrom: { id: string; tokenPrefix: string } | null;
  /** Successors made by rotating this credential. */
  rotatedTo: Array<{ id: string; tokenPrefix: string }>;
};

/** Every service credential, active first, newest first; for vendor admins only. Never the secret hashes. */
export async function listServiceCredentials(caller: Caller): Promise<CredentialView[]> {
  const db = getDb();
  const standing = await standingOf(db, caller.userId, null);
  if (!standing.isVendorAdmin) throw new AppError("forbidden", "Only vendor admins can see service credentials.");

  const rows = await db.serviceCredential.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    select: {
      id: true,
      name: true,
      scopes: true,
      createdAt: true,
      lastUsedAt: true,
      revokedAt: true,
      rotatedFromId: true,
      tenant: { select: { id: true, name: true, slug: true } },
      createdBy: { select: { email: true } },
      revokedBy: { select: { email: true } },
      rotatedTo: { select: { id: true }, orderBy: { createdAt: "asc" } },
    },
  });
  const views: CredentialView[] = rows.map((row) => ({
    id: row.id,
    tokenPrefix: tokenPrefixOf(row.id),
    name: row.name,
    scopes: scopesFromDb(row.scopes),
    tenant: row.tenant,
    createdBy: row.createdBy.email,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    status: row.revokedAt ? "revoked" : "active",
    revokedAt: row.revokedAt,
    revokedBy: row.revokedBy?.email ?? null,
    rotatedFrom: row.rotatedFromId ? { id: row.rotatedFromId, tokenPrefix: tokenPrefixOf(row.rotatedFromId) } : null,
    rotatedTo: row.rotatedTo.map((s) => ({ id: s.id, tokenPrefix: tokenPrefixOf(s.id) })),
  }));
  // Stable sort: active before revoked, each newest first.
  return views.sort((a, b) => Number(a.status === "revoked") - Number(b.status === "revoked"));
}
