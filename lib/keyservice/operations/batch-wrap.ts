import "server-only";
import { randomBytes } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { DEK_BYTES, sealDek } from "@/lib/keys/edek";
import { type BatchWrapRequest, type BatchWrapResponse, batchWrapItemSchema } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { BatchTally, callDetails } from "./details";

/** A new DEK and EDEK per item, all under the tenant's primary key; a malformed item fails alone. */
export async function batchWrap(parts: KeyServiceParts, call: ServiceCall, input: BatchWrapRequest): Promise<BatchWrapResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "wrap",
    action: AUDIT_ACTIONS.keyBatchWrap,
    metadata: input.metadata,
    details: { ...callDetails(input.metadata), items: input.items.length },
  });
  const primary = await context.primaryKey();
  const material = await context.material(primary);

  const tally = new BatchTally(input.items.length);
  const deks = randomBytes(DEK_BYTES * input.items.length);
  const results: BatchWrapResponse["results"] = input.items.map((raw, index) => {
    const item = batchWrapItemSchema.safeParse(raw);
    if (!item.success) return tally.malformed(index, item.error.issues);
    tally.seen(item.data);
    const dek = deks.subarray(index * DEK_BYTES, (index + 1) * DEK_BYTES);
    const edek = sealDek(material, primary.id, { tenantId: context.tenantId, dataLabel: item.data.dataLabel }, dek);
    return { ok: true as const, dek: dek.toString("base64"), edek: edek.toString("base64"), tenantKeyId: primary.id };
  });
  deks.fill(0);
  await context.commitUse(primary, tally.details(), tally.allFailed);
  return { results };
}
