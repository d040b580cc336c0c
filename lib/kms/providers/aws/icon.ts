import type { ProviderIcon } from "@/lib/kms/provider";

/** A key in a cloud: AWS KMS in the console's key list (no trademarked artwork). */
export const AWS_ICON: ProviderIcon = {
  viewBox: "0 0 24 24",
  paths: [
    { d: "M7 18a5 5 0 0 1-.5-9.97A6 6 0 0 1 18 7.5a4.5 4.5 0 0 1-.5 8.97V18Z", fill: "#ff9900" },
    { d: "M11 10.5a2 2 0 1 1 1.5 1.94V15h-1v-.5h-1v-1h1v-1.06A2 2 0 0 1 11 10.5Z", fill: "#232f3e" },
  ],
};
