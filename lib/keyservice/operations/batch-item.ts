import "server-only";
import { decodeEdek, edekTenantKeyId } from "@/lib/keys/edek";
import type { TenantKeyRecord } from "@/lib/keys/tenant-key-state";
import { type BatchUnwrapItem, batchUnwrapItemSchema } from "@/lib/validation/keyservice";
import type { CallContext } from "../call-context";
import { type BatchTally, type ItemFailure, refusedEdekCode } from "./details";

/**
 * The first steps batch-unwrap and batch-rekey take for each item: its shape, its EDEK's
 * layout, and the tenant key it names. A failure is the item's answer (the item fails alone);
 * otherwise the item, its EDEK and the usable tenant key.
 */
export function openBatchItem(
  context: CallContext,
  tally: BatchTally,
  index: number,
  raw: unknown,
): ItemFailure | { item: BatchUnwrapItem; edek: Buffer; key: TenantKeyRecord } {
  const item = batchUnwrapItemSchema.safeParse(raw);
  if (!item.success) return tally.malformed(index, item.error.issues);
  tally.seen(item.data);
  try {
    const edek = decodeEdek(item.data.edek);
    return { item: item.data, edek, key: context.usableKey(edekTenantKeyId(edek)) };
  } catch (error) {
    return tally.failed(index, refusedEdekCode(error), (error as Error).message);
  }
}
