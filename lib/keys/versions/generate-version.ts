import "server-only";
import type { KmsKey } from "@/lib/db/generated/client";
import { isKmsError, type KmsError, keyRefOf, kmsClientFor } from "@/lib/kms";

/**
 * A new tenant key from the tenant's KMS key (GenerateDataKey or its provider's equivalent),
 * outside any transaction; only its wrapped form is kept, the plaintext is wiped at once.
 */
export async function generateWrappedTenantKey(
  key: Pick<KmsKey, "provider" | "keyRef" | "keyDetails">,
  tenantId: string,
): Promise<{ ok: true; wrapped: Buffer } | { ok: false; error: KmsError }> {
  const ref = keyRefOf(key);
  try {
    const material = await kmsClientFor(ref).generateTenantKey(ref, { tenantId });
    material.plaintext.fill(0);
    return { ok: true, wrapped: material.wrapped };
  } catch (error) {
    if (isKmsError(error)) return { ok: false, error };
    throw error;
  }
}
