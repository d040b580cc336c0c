import type { KeyDetails, KeyRef } from "./provider";
import { isKmsProviderName } from "./provider-names";

/** A stored key (kms_keys.provider, key_ref, key_details) as a KeyRef; a provider this build does not know is an error. */
export function keyRefOf(row: { provider: string; keyRef: string; keyDetails: unknown }): KeyRef {
  if (!isKmsProviderName(row.provider)) throw new Error(`kms key with unknown provider "${row.provider}"`);
  const details = row.keyDetails !== null && typeof row.keyDetails === "object" && !Array.isArray(row.keyDetails) ? (row.keyDetails as KeyDetails) : {};
  return { provider: row.provider, ref: row.keyRef, details };
}
