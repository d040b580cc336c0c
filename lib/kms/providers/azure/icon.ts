import type { ProviderIcon } from "@/lib/kms/provider";

/** A key in a vault: Azure Key Vault in the console's key list (no trademarked artwork). */
export const AZURE_ICON: ProviderIcon = {
  viewBox: "0 0 24 24",
  paths: [
    { d: "M4 4h16v16H4Z", fill: "#0078d4" },
    { d: "M10 9.5a2.5 2.5 0 1 1 3 2.45V16h-2v-1h-1v-1.5h1v-1.55A2.5 2.5 0 0 1 10 9.5Z", fill: "#ffffff" },
  ],
};
