import { type Config, type LoadOptions, loadConfig, type Purpose, type ValueChecks } from "@/lib/config";
import { parseSigningKeyPem, readSigningKeyFile } from "@/lib/audit/integrity/signing-key";
import { parsePublicKeysPem, readPublicKeysFile } from "@/lib/audit/integrity/trusted-keys";
import { checkVaultServers, checkVaultServersFile } from "@/lib/kms/providers/vault/settings";
import { parsePreviousSinkSecretKeys, parseSinkSecretKey, readSinkSecretKeyFile } from "@/lib/sinks/secrets";
import { readGcpKeyFile } from "@/lib/kms/providers/gcp/settings";

// Start-up's view of the configuration: lib/config's typed values, plus what the audit trail
// and the log sinks make of their key material, so a bad key stops start-up with a message
// naming the variable, as a malformed port does. The arrows point one way: lib/config knows
// no domain module; this composition knows both.
export const KEY_MATERIAL_CHECKS: ValueChecks = {
  AUDIT_SIGNING_KEY: parseSigningKeyPem,
  AUDIT_SIGNING_KEY_FILE: readSigningKeyFile,
  AUDIT_TRUSTED_PUBLIC_KEYS: parsePublicKeysPem,
  AUDIT_TRUSTED_PUBLIC_KEYS_FILE: readPublicKeysFile,
  SINK_SECRET_KEY: parseSinkSecretKey,
  SINK_SECRET_KEY_FILE: readSinkSecretKeyFile,
  SINK_SECRET_PREVIOUS_KEYS: parsePreviousSinkSecretKeys,
  GCP_KMS_CREDENTIALS_FILE: readGcpKeyFile,
  VAULT_SERVERS: checkVaultServers,
  VAULT_SERVERS_FILE: checkVaultServersFile,
};

/** The configuration an entry point starts with; throws ConfigError naming every bad variable. */
export function loadStartConfig(purpose: Purpose, options: Omit<LoadOptions, "checks"> = {}): Config {
  return loadConfig(purpose, { ...options, checks: KEY_MATERIAL_CHECKS });
}
