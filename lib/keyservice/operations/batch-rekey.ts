import "server-only";
import { AUDIT_ACTIONS } from "@/lib/audit";
import { InvalidEdekError, openEdek, sealDek } from "@/lib/keys/edek";
import type { BatchRekeyRequest, BatchRekeyResponse } from "@/lib/validation/keyservice";
import { CallContext, type KeyServiceParts, type ServiceCall } from "../call-context";
import { openBatchItem } from "./batch-item";
import { BatchTally, callDetails, ITEMS_PER_TURN, nextTurn } from "./details";

/**
 * Each item's EDEK re-sealed under the tenant's current key version (a re-key job's unit of
 * work): like batch-unwrap, a malformed item, a bad EDEK or one under a retired version fails
 * alone, a KMS failure fails the whole call. The event names the keys the EDEKs moved from
 * with their counts (`fromTenantKeyIds`, `fromTenantKeyItems`) and the version they moved to.
 */
export async function batchRekey(parts: KeyServiceParts, call: ServiceCall, input: BatchRekeyRequest): Promise<BatchRekeyResponse> {
  const context = await CallContext.admit(parts, call, {
    tenantId: input.tenantId,
    scope: "rekey",
    action: AUDIT_ACTIONS.keyBatchRekey,
    metadata: input.metadata,
    details: { ...callDetails(input.metadata), items: input.items.length },
  });

  const tally = new BatchTally(input.items.length);
  const primary = await context.primaryKey();
  const target = await context.material(primary, () => tally.details());
  const moved = new Map<string, number>();
  const results: BatchRekeyResponse["results"] = [];
  for (const [index, raw] of input.items.entries()) {
    if (index > 0 && index % ITEMS_PER_TURN === 0) await nextTurn();
    const opened = openBatchItem(context, tally, index, raw);
    if ("ok" in opened) {
      results.push(opened);
      continue;
    }
    const { item, edek, key } = opened;
    const material = await context.material(key, () => tally.details());
    const binding = { tenantId: context.tenantId, dataLabel: item.dataLabel };
    let dek: Buffer;
    try {
      dek = openEdek(material, binding, edek);
    } catch (error) {
      if (!(error instanceof InvalidEdekError)) throw error;
      results.push(tally.failed(index, "invalid_edek", error.message));
      continue;
    }
    try {
      const sealed = sealDek(target, primary.id, binding, dek);
      results.push({ ok: true, edek: sealed.toString("base64"), tenantKeyId: primary.id, version: primary.version });
      moved.set(key.id, (moved.get(key.id) ?? 0) + 1);
    } finally {
      dek.fill(0);
    }
  }
  const details = { ...tally.details(), fromTenantKeyIds: [...moved.keys()], fromTenantKeyItems: [...moved.values()], version: primary.version };
  await context.commitUse(tally.allFailed ? null : primary, details, tally.allFailed);
  return { results };
}
