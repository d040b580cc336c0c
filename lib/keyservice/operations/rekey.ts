import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { sealDek } from "@/lib/keys/edek";
import type { RekeyRequest, RekeyResponse } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { itemDetails } from "./details";

/** An EDEK re-sealed under the tenant's current key version (answered); the DEK never leaves Custody. */
export async function rekey(parts: KeyServiceParts, call: ServiceCall, input: RekeyRequest): Promise<RekeyResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "rekey",
    action: AUDIT_ACTIONS.keyRekey,
    metadata: input.metadata,
    details: itemDetails(input.metadata),
  });
  const { dek, key: from } = await context.open(input.edek, input.metadata.dataLabel);
  try {
    const primary = await context.primaryKey({ fromTenantKeyId: from.id });
    const material = await context.material(primary);
    const edek = sealDek(material, primary.id, { tenantId: context.tenantId, dataLabel: input.metadata.dataLabel }, dek);
    await context.commitUse(primary, { fromTenantKeyId: from.id, fromVersion: from.version, version: primary.version });
    return { edek: edek.toString("base64"), tenantKeyId: primary.id, version: primary.version };
  } finally {
    dek.fill(0);
  }
}
