import type { ProviderIcon } from "@/lib/kms/provider";

/** A key in a hexagon: Google Cloud KMS in the console's key list (no trademarked artwork). */
export const GCP_ICON: ProviderIcon = {
  viewBox: "0 0 24 24",
  paths: [
    { d: "M7 3h10l5 9-5 9H7l-5-9Z", fill: "#4285f4" },
    { d: "M10 10.5a2 2 0 1 1 1.5 1.94V16h-1v-.75h-1v-1h1v-.81A2 2 0 0 1 10 10.5Z", fill: "#ffffff" },
  ],
};
