import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { InvalidEdekError, openEdek } from "@/lib/keys/edek";
import type { TenantKeyRecord } from "@/lib/keys/tenant-key-state";
import type { BatchUnwrapRequest, BatchUnwrapResponse } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { openBatchItem } from "./batch-item";
import { BatchTally, callDetails, ITEMS_PER_TURN, nextTurn } from "./details";

/**
 * The DEK of each item's EDEK (any of the tenant's usable keys); a malformed item or a bad EDEK
 * fails alone, a KMS failure fails the whole call.
 */
export async function batchUnwrap(parts: KeyServiceParts, call: ServiceCall, input: BatchUnwrapRequest): Promise<BatchUnwrapResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "unwrap",
    action: AUDIT_ACTIONS.keyBatchUnwrap,
    metadata: input.metadata,
    details: { ...callDetails(input.metadata), items: input.items.length },
  });

  const tally = new BatchTally(input.items.length);
  /** Items unwrapped per tenant key: the versions page counts unwraps per key from these. */
  const tenantKeys = new Map<string, number>();
  const results: BatchUnwrapResponse["results"] = [];
  let lastKey: TenantKeyRecord | null = null;
  for (const [index, raw] of input.items.entries()) {
    if (index > 0 && index % ITEMS_PER_TURN === 0) await nextTurn();
    const opened = openBatchItem(context, tally, index, raw);
    if ("ok" in opened) {
      results.push(opened);
      continue;
    }
    const { item, edek, key } = opened;
    // A KMS failure concerns every item under that key: the whole call fails, as for a single unwrap.
    const material = await context.material(key, () => tally.details());
    try {
      const dek = openEdek(material, { tenantId: context.tenantId, dataLabel: item.dataLabel }, edek);
      results.push({ ok: true, dek: dek.toString("base64"), tenantKeyId: key.id });
      dek.fill(0);
      tenantKeys.set(key.id, (tenantKeys.get(key.id) ?? 0) + 1);
      lastKey = key;
    } catch (error) {
      if (!(error instanceof InvalidEdekError)) throw error;
      results.push(tally.failed(index, "invalid_edek", error.message));
    }
  }
  await context.commitUse(lastKey, { ...tally.details(), tenantKeyIds: [...tenantKeys.keys()], tenantKeyItems: [...tenantKeys.values()] }, tally.allFailed);
  return { results };
}
