import { z } from "zod";
import type { KeyDetails, KeyRef } from "@/lib/kms/provider";
import type { VaultKeyRef } from "./key-ref";

// What Custody keeps about a Vault key (kms_keys.key_ref and key_details): the canonical
// reference text — the key's own API URL, with the namespace as a path prefix as Vault accepts
// it — and its parts, which only this folder reads.

const detailsSchema = z.object({
  address: z.string().catch(""),
  namespace: z.string().catch(""),
  mount: z.string().catch("transit"),
  key: z.string().catch(""),
});

export function vaultRefOf(key: Pick<KeyRef, "details">): VaultKeyRef {
  return detailsSchema.parse(key.details);
}

export function toKeyDetails(ref: VaultKeyRef): KeyDetails {
  return { address: ref.address, namespace: ref.namespace, mount: ref.mount, key: ref.key };
}

/** The canonical reference: https://vault.example.com:8200/v1/[namespace/]transit/keys/custody-acme. */
export function canonicalRef(ref: VaultKeyRef): string {
  return `${ref.address}/v1/${ref.namespace ? `${ref.namespace}/` : ""}${ref.mount}/keys/${ref.key}`;
}
