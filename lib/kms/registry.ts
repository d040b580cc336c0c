import { AppError } from "@/lib/errors";
import type { KmsProviderDefinition } from "./provider";
import { isKmsProviderName, type KmsProviderName } from "./provider-names";
import { awsKmsProvider } from "./providers/aws";
import { gcpKmsProvider } from "./providers/gcp";
import { vaultKmsProvider } from "./providers/vault";
import { azureKmsProvider } from "./providers/azure";

// Every KMS provider Custody supports, by name. The compiler refuses a name in
// KMS_PROVIDER_NAMES without its definition here.
export const KMS_PROVIDERS = {
  aws: awsKmsProvider,
  gcp: gcpKmsProvider,
  vault: vaultKmsProvider,
  azure: azureKmsProvider,
} satisfies Record<KmsProviderName, KmsProviderDefinition>;

/** The definition of a provider by name; an unknown name is bad input with a clear message. */
export function kmsProvider(name: string): KmsProviderDefinition {
  if (!isKmsProviderName(name)) {
    throw new AppError("bad_request", `"${name.slice(0, 40)}" is not a KMS provider Custody supports.`, { provider: ["Choose a KMS provider."] });
  }
  return KMS_PROVIDERS[name];
}

/** Every registered provider, in the registry's order. */
export function kmsProviders(): KmsProviderDefinition[] {
  return Object.values(KMS_PROVIDERS);
}
