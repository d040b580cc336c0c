import type { CustodyError } from "./errors";

// The SDK's view of the key service's wire contract. Written out here (not imported from the
// server's zod schemas) so the SDK needs nothing but Node; contract.test.ts checks it against
// lib/validation/keyservice.ts.

/** Items one batch call may carry; the key service refuses larger batches with bad_request. */
export const MAX_BATCH_ITEMS = 1000;

/** Who and why, recorded in the tenant's audit event. */
export type CallMetadata = {
  /** The end user or service on whose behalf the application acts. */
  actor?: string;
  /** Why the key is used, e.g. "render invoice". */
  reason?: string;
  /** The application's own request id (1-128 of A-Z a-z 0-9 . _ : -), recorded in the audit event. */
  requestId?: string;
};

export type Metadata = CallMetadata & {
  /** What kind of data the key protects, e.g. "invoices". Bound into the EDEK: unwrap needs the same label. */
  dataLabel: string;
  /** The record the key protects, for the audit trail. */
  objectId?: string;
};

/** encryptRecord / decryptRecord bind the object id into the envelope, so it is required there. */
export type RecordMetadata = Metadata & { objectId: string };

export type BatchWrapItem = { dataLabel: string; objectId?: string };
export type BatchUnwrapItem = { edek: string; dataLabel: string; objectId?: string };

export type WrappedKey = {
  /** The 256-bit data key. Use it, then zero it (`dek.fill(0)`). */
  dek: Buffer;
  /** The data key wrapped under the tenant's key (base64): store it beside the data. */
  edek: string;
  /** The tenant key the EDEK is wrapped under. */
  tenantKeyId: string;
};
export type UnwrappedKey = { dek: Buffer; tenantKeyId: string };
export type RekeyedKey = {
  /** The same data key wrapped under the tenant's current key version: store it in place of the old EDEK. */
  edek: string;
  tenantKeyId: string;
  /** The tenant key version (1, 2, …) the EDEK is now under. */
  version: number;
};

/** One item of a batch answer: the result, or why this item (only) failed. */
export type BatchResult<T> = ({ ok: true } & T) | { ok: false; error: CustodyError };
