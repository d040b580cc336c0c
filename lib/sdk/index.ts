// Custody SDK: the vendor application's client for the key service (/api/v1), plus local
// envelope encryption of records. Depends on Node built-ins only (node:crypto, fetch).
export { CustodyClient, SDK_VERSION, type CallOptions, type CustodyClientOptions, type FetchLike } from "./client";
export { ENVELOPE_VERSION, envelopeEdek, openRecord, sealRecord, type RecordBinding } from "./envelope";
export {
  API_ERROR_CODES,
  CustodyError,
  isCustodyError,
  REFUSED_BEFORE_ACTING,
  type ApiErrorCode,
  type ClientErrorCode,
  type CustodyErrorCode,
  type CustodyErrorDetails,
} from "./errors";
export {
  MAX_BATCH_ITEMS,
  type BatchResult,
  type BatchUnwrapItem,
  type BatchWrapItem,
  type CallMetadata,
  type Metadata,
  type RecordMetadata,
  type RekeyedKey,
  type UnwrappedKey,
  type WrappedKey,
} from "./types";
