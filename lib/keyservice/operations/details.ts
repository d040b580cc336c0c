import type { AuditDetails } from "@/lib/audit/trail/append";
import { isAppError } from "@/lib/errors";
import type { KeyServiceErrorCode } from "@/lib/validation/keyservice";
import type { CallMetadata, Metadata } from "@/lib/validation/keyservice";

// The audit details an operation's event carries: who the vendor acted for and why, which data
// (label, object), and for a batch the labels and object ids it held and which items failed.

export function callDetails(metadata: CallMetadata): AuditDetails {
  const details: AuditDetails = {};
  if (metadata.actor) details.onBehalfOf = metadata.actor;
  if (metadata.reason) details.reason = metadata.reason;
  return details;
}

export function itemDetails(metadata: Metadata): AuditDetails {
  const details = callDetails(metadata);
  details.dataLabel = metadata.dataLabel;
  if (metadata.objectId) details.objectId = metadata.objectId;
  return details;
}

/** Items a batch handles between two turns of the event loop. */
export const ITEMS_PER_TURN = 100;

/**
 * Lets the requests waiting on this process run (a single unwrap beside a tenant's 1,000-item
 * batches): a batch gives way every ITEMS_PER_TURN items instead of holding the event loop.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A batch item's failure, as answered in its place in the results. */
export type ItemFailure = { ok: false; error: { code: KeyServiceErrorCode; message: string } };

/** Why a batch item's EDEK was refused before it was opened: a retired version, or anything else. */
export function refusedEdekCode(error: unknown): "key_version_retired" | "invalid_edek" {
  return isAppError(error) && error.code === "key_version_retired" ? "key_version_retired" : "invalid_edek";
}

/** What a batch call has seen so far: its data labels, object ids and failed items. */
export class BatchTally {
  private readonly labels = new Set<string>();
  private readonly objectIds: string[] = [];
  private readonly failedItems: number[] = [];

  constructor(private readonly size: number) {}

  seen(item: { dataLabel: string; objectId?: string }): void {
    this.labels.add(item.dataLabel);
    if (item.objectId) this.objectIds.push(item.objectId);
  }

  failed(index: number, code: KeyServiceErrorCode, message: string): ItemFailure {
    this.failedItems.push(index);
    return { ok: false, error: { code, message: `Item ${index}: ${message}` } };
  }

  /** An item the item schema refused. */
  malformed(index: number, issues: readonly { message: string }[]): ItemFailure {
    return this.failed(index, "bad_request", issues[0]?.message ?? "malformed item");
  }

  get allFailed(): boolean {
    return this.failedItems.length === this.size;
  }

  details(): AuditDetails {
    return { dataLabels: [...this.labels], objectIds: this.objectIds, failedItems: this.failedItems };
  }
}
