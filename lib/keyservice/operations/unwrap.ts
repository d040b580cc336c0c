import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import type { UnwrapRequest, UnwrapResponse } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { itemDetails } from "./details";

/** The DEK inside an EDEK of this tenant, for this data label. */
export async function unwrap(parts: KeyServiceParts, call: ServiceCall, input: UnwrapRequest): Promise<UnwrapResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "unwrap",
    action: AUDIT_ACTIONS.keyUnwrap,
    metadata: input.metadata,
    details: itemDetails(input.metadata),
  });
  const { dek, key } = await context.open(input.edek, input.metadata.dataLabel);
  await context.commitUse(key);
  return { dek: dek.toString("base64"), tenantKeyId: key.id };
}
