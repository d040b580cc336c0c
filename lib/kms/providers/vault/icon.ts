import type { ProviderIcon } from "@/lib/kms/provider";

/** A vault door with a key slot: HashiCorp Vault / OpenBao in the console's key list (no trademarked artwork). */
export const VAULT_ICON: ProviderIcon = {
  viewBox: "0 0 24 24",
  paths: [
    { d: "M3 4a1 1 0 0 1 1-1h16a1 1 0 0 1 1 1v15a1 1 0 0 1-1 1h-1v1h-2v-1H7v1H5v-1H4a1 1 0 0 1-1-1Z", fill: "#1f2937" },
    { d: "M12 7.5a4 4 0 1 0 0 8 4 4 0 0 0 0-8Zm0 2a1.25 1.25 0 0 1 .6 2.35V13.5h-1.2v-1.65A1.25 1.25 0 0 1 12 9.5Z", fill: "#facc15" },
  ],
};
