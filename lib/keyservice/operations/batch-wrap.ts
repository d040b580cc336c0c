import "server-only";
import { randomBytes } from "node:crypto";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { DEK_BYTES, sealDek } from "@/lib/keys/edek";
import { type BatchWrapRequest, type BatchWrapResponse, batchWrapItemSchema } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { BatchTally, callDetails, ITEMS_PER_TURN, nextTurn } from "./details";

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
  // A copy of its own: the batch gives way between items (nextTurn), and a lease dropped meanwhile is zeroed a second later.
  const material = Buffer.from(await context.material(primary));

  const tally = new BatchTally(input.items.length);
  const deks = randomBytes(DEK_BYTES * input.items.length);
  const results: BatchWrapResponse["results"] = [];
  try {
    for (const [index, raw] of input.items.entries()) {
      if (index > 0 && index % ITEMS_PER_TURN === 0) await nextTurn();
      const item = batchWrapItemSchema.safeParse(raw);
      if (!item.success) {
        results.push(tally.malformed(index, item.error.issues));
        continue;
      }
      tally.seen(item.data);
      const dek = deks.subarray(index * DEK_BYTES, (index + 1) * DEK_BYTES);
      const edek = sealDek(material, primary.id, { tenantId: context.tenantId, dataLabel: item.data.dataLabel }, dek);
      results.push({ ok: true as const, dek: dek.toString("base64"), edek: edek.toString("base64"), tenantKeyId: primary.id });
    }
  } finally {
    deks.fill(0);
    material.fill(0);
  }
  await context.commitUse(primary, tally.details(), tally.allFailed);
  return { results };
}
