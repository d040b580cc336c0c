import "server-only";
import { getDb } from "@/lib/db";
import type { KmsKey } from "@/lib/db/generated/client";
import { AppError } from "@/lib/errors";
import { type Caller, standingOf } from "@/lib/authz";
import { type KeyRef, keyRefOf, KMS_PROVIDERS } from "@/lib/kms";
import type { VerifyStep } from "./verify-steps";

export type KeyView = Omit<KmsKey, "lastVerifySteps" | "keyDetails"> & {
  isPrimary: boolean;
  lastVerifySteps: VerifyStep[] | null;
  /** The key as its provider reads it (for instructions). */
  ref: KeyRef;
  /** The provider's name for it ("AWS KMS"), its location (region, …) and other facts, for display. */
  providerLabel: string;
  location: string | null;
  facts: string[];
  /** The provider's revocation handles (AWS grant ids), or null for a provider without them. */
  revocationHandles: string[] | null;
};

export type TenantKeyOverview = {
  keys: KeyView[];
  accessRevokedAt: Date | null;
  accessRevokedBy: string | null;
  primaryKmsKeyId: string | null;
};

async function requireMember(caller: Caller, tenantId: string) {
  const standing = await standingOf(getDb(), caller.userId, tenantId);
  if (standing.role === null) throw new AppError("forbidden", "You are not a member of this tenant.");
}

function view(key: KmsKey, primaryId: string | null): KeyView {
  const { keyDetails: _details, ...rest } = key;
  const ref = keyRefOf(key);
  const provider = KMS_PROVIDERS[ref.provider];
  return {
    ...rest,
    isPrimary: key.id === primaryId,
    lastVerifySteps: (key.lastVerifySteps as VerifyStep[] | null) ?? null,
    ref,
    providerLabel: provider.display.label,
    location: provider.display.location(ref),
    facts: provider.display.facts(ref),
    revocationHandles: provider.revocation.handles?.read(ref.details) ?? null,
  };
}

/** A tenant's KMS keys, newest first, with its access state: for its admins and auditors. */
export async function listKmsKeys(caller: Caller, tenantId: string): Promise<TenantKeyOverview> {
  await requireMember(caller, tenantId);
  const tenant = await getDb().tenant.findUniqueOrThrow({
    where: { id: tenantId },
    select: { primaryKmsKeyId: true, accessRevokedAt: true, accessRevokedById: true, kmsKeys: { orderBy: { createdAt: "desc" } } },
  });
  const revokedBy = tenant.accessRevokedById
    ? await getDb().user.findUnique({ where: { id: tenant.accessRevokedById }, select: { email: true } })
    : null;
  return {
    keys: tenant.kmsKeys.map((k) => view(k, tenant.primaryKmsKeyId)),
    accessRevokedAt: tenant.accessRevokedAt,
    accessRevokedBy: revokedBy?.email ?? null,
    primaryKmsKeyId: tenant.primaryKmsKeyId,
  };
}

/** One of a tenant's KMS keys; another tenant's id is not found. */
export async function getKmsKey(caller: Caller, tenantId: string, kmsKeyId: string): Promise<KeyView> {
  await requireMember(caller, tenantId);
  const key = await getDb().kmsKey.findFirst({ where: { id: kmsKeyId, tenantId }, include: { primaryOf: { select: { id: true } } } });
  if (!key) throw new AppError("not_found", "That key is not registered for this tenant.");
  const { primaryOf, ...rest } = key;
  return view(rest, primaryOf ? key.id : null);
}
