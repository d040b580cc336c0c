// The KMS providers Custody supports. Adding one: a name here, a folder under
// lib/kms/providers/<name>/ and one line in the registry (lib/kms/registry.ts), which does not
// compile until every name has its definition.
export const KMS_PROVIDER_NAMES = ["aws", "azure", "gcp", "vault"] as const;

export type KmsProviderName = (typeof KMS_PROVIDER_NAMES)[number];

export function isKmsProviderName(value: string): value is KmsProviderName {
  return (KMS_PROVIDER_NAMES as readonly string[]).includes(value);
}
