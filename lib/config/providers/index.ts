import { AWS_KMS_VARIABLES, awsKmsChecks } from "./aws";
import { AZURE_KMS_VARIABLES, azureKmsChecks } from "./azure";
import { GCP_KMS_VARIABLES } from "./gcp";
import type { ProviderChecks } from "./types";
import { VAULT_VARIABLES, vaultChecks } from "./vault";

// Each KMS provider declares its variables in its own file here (a zod shape and its rules
// across variables); this list merges them into Custody's one schema. A new provider: one file,
// one spread and one entry below.

export const KMS_PROVIDER_VARIABLES = {
  ...AWS_KMS_VARIABLES,
  ...GCP_KMS_VARIABLES,
  ...VAULT_VARIABLES,
  ...AZURE_KMS_VARIABLES,
};

export const KMS_PROVIDER_CHECKS: readonly ProviderChecks[] = [awsKmsChecks, vaultChecks, azureKmsChecks];
