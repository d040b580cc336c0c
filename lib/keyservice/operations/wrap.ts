import "server-only";
import { randomBytes } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { DEK_BYTES, sealDek } from "@/lib/keys/edek";
import type { WrapRequest, WrapResponse } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { itemDetails } from "./details";

/** A new DEK, and its EDEK sealed under the tenant's primary key. */
export async function wrap(parts: KeyServiceParts, call: ServiceCall, input: WrapRequest): Promise<WrapResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "wrap",
    action: AUDIT_ACTIONS.keyWrap,
    metadata: input.metadata,
    details: itemDetails(input.metadata),
  });
  const primary = await context.primaryKey();
  const material = await context.material(primary);
  const dek = randomBytes(DEK_BYTES);
  const edek = sealDek(material, primary.id, { tenantId: context.tenantId, dataLabel: input.metadata.dataLabel }, dek);
  await context.commitUse(primary);
  return { dek: dek.toString("base64"), edek: edek.toString("base64"), tenantKeyId: primary.id };
}
