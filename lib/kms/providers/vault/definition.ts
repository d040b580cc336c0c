import { z } from "zod";
import type { Config } from "@/lib/config";
import type { KmsProviderDefinition } from "@/lib/kms/provider";
import { createVaultTransitClient } from "./client";
import { canonicalRef, toKeyDetails, vaultRefOf } from "./details";
import { toVaultKmsError } from "./errors";
import { VAULT_ICON } from "./icon";
import { vaultInstructions } from "./instructions";
import { parseVaultKeyRef, VaultKeyRefError } from "./key-ref";
import { createVaultKmsClient, tenantBindingText } from "./kms-client";
import { vaultServersFrom, type VaultServer } from "./settings";

// HashiCorp Vault and OpenBao Transit as a Custody KMS provider: the key is address + namespace
// + transit mount + key name; the customer's access is a policy granting update on
// <mount>/encrypt/<key> and <mount>/decrypt/<key> (and read on <mount>/keys/<key>) to an AppRole
// whose role id and secret id the vendor lists in VAULT_SERVERS; the tenant key is wrapped with
// transit/encrypt, bound to the tenant by context and associated data.

const FIELD_MAX = 300;

/** The configured servers; a list that does not parse counts as none (start-up has already refused it). */
function servers(config: Config): VaultServer[] {
  try {
    return vaultServersFrom(config);
  } catch {
    return [];
  }
}

function registrationSchema(config: Config) {
  const text = (message: string) => z.string({ message }).trim().max(FIELD_MAX, `Use at most ${FIELD_MAX} characters.`);
  return z
    .object({
      address: text("Enter the Vault address.").min(1, "Enter the Vault address, such as https://vault.example.com:8200."),
      namespace: text("Not a namespace.").optional(),
      mount: text("Not a mount path.").optional(),
      key: text("Enter the transit key's name.").min(1, "Enter the transit key's name."),
    })
    .transform((input, ctx) => {
      let ref;
      try {
        ref = parseVaultKeyRef(input, { allowHttpLoopback: config.VAULT_ALLOW_HTTP_LOOPBACK });
      } catch (error) {
        if (!(error instanceof VaultKeyRefError)) throw error;
        ctx.addIssue({ code: "custom", path: [error.field], message: error.message });
        return z.NEVER;
      }
      if (!servers(config).some((s) => s.address === ref.address && s.namespace === ref.namespace)) {
        ctx.addIssue({
          code: "custom",
          path: ["address"],
          message: `Custody holds no credentials for ${ref.address}${ref.namespace ? ` (namespace ${ref.namespace})` : ""}. Create the policy and AppRole Custody's Vault instructions describe, give the role id and secret id to the vendor to add this Vault, then register the key.`,
        });
        return z.NEVER;
      }
      return { ref: canonicalRef(ref), details: toKeyDetails(ref) };
    });
}

export const vaultKmsProvider: KmsProviderDefinition = {
  name: "vault",
  display: {
    label: "HashiCorp Vault / OpenBao",
    icon: VAULT_ICON,
    referenceLabel: "Transit key",
    location: (key) => {
      const ref = vaultRefOf(key);
      return ref.address ? `${new URL(ref.address).host}${ref.namespace ? ` · ${ref.namespace}` : ""}` : null;
    },
    facts: (key) => {
      const ref = vaultRefOf(key);
      return [`mount ${ref.mount}`, ...(ref.namespace ? [`namespace ${ref.namespace}`] : [])];
    },
    tenantBinding: (tenantId) => ({ label: "Transit context and associated data", value: tenantBindingText(tenantId) }),
  },
  configured: (config) => servers(config).length > 0,
  registration: {
    fields: [
      { name: "address", label: "Vault address", hint: "The server's https:// address and port, e.g. https://vault.example.com:8200 (VAULT_ADDR).", placeholder: "https://vault.example.com:8200", code: true },
      { name: "namespace", label: "Namespace (optional)", hint: "Vault Enterprise or OpenBao namespace holding the key, e.g. acme. Empty for none.", optional: true, code: true },
      { name: "mount", label: "Transit mount", hint: "The transit secrets engine's path; empty means transit.", placeholder: "transit", optional: true, code: true },
      { name: "key", label: "Key name", hint: "The transit key's name, e.g. custody-acme.", placeholder: "custody-acme", code: true },
    ],
    schema: registrationSchema,
  },
  createClient: (config) =>
    createVaultKmsClient(
      createVaultTransitClient({ servers: vaultServersFrom(config), maxAttempts: config.KMS_MAX_ATTEMPTS, timeoutMs: config.VAULT_TIMEOUT_SECONDS * 1000 }),
    ),
  toKmsError: toVaultKmsError,
  instructions: ({ key, tenant }) => vaultInstructions({ ref: vaultRefOf(key), tenantSlug: tenant.slug }),
  vendorSetup: (config) => [
    {
      id: "vault-servers",
      title: "Customers' Vault servers",
      text: "Each customer on Vault or OpenBao creates an AppRole for Custody in their own Vault and sends you its role id and secret id. List each server in VAULT_SERVERS (or a file named by VAULT_SERVERS_FILE) with its address, namespace and, for a private CA, the CA bundle; Custody sends those credentials to that address only. The servers listed now:",
      code: servers(config).map((s) => `${s.address}${s.namespace ? ` (namespace ${s.namespace})` : ""}: ${s.auth.method}`).join("\n") || "(none)",
      language: "text",
    },
    {
      id: "vault-servers-example",
      title: "An entry",
      text: "https is required (VAULT_ALLOW_HTTP_LOOPBACK=true admits http:// to a Vault on the same machine only).",
      code: JSON.stringify([{ address: "https://vault.acme.example:8200", namespace: "acme", approle: { roleId: "<role id>", secretId: "<secret id>" }, caFile: "/etc/custody/acme-vault-ca.pem" }], null, 2),
      language: "json",
    },
  ],
  verify: {
    summary: "Wraps a new tenant key with transit/encrypt and unwraps it with transit/decrypt, both with this tenant's context, then reads the key's type and versions, live against your Vault. Success makes this key the tenant's primary.",
    propagationNote: "",
    steps: {
      generate: { name: "transit/encrypt", success: "Vault wrapped a new 256-bit tenant key with this transit key, bound to the tenant's context." },
      unwrap: { name: "transit/decrypt", success: "Vault unwrapped the tenant key with the tenant's context." },
      describe: { name: "transit/keys", success: "The transit key is fit for wrapping." },
    },
    // Vault applies a policy or AppRole change at once.
    retryWhilePropagating: [],
  },
  revocation: {
    summary:
      "Custody refuses every call for the tenant at once. Nothing changes in your Vault: to withdraw Custody's access there too, destroy its secret id or delete the policy (vault policy delete custody-<tenant>).",
  },
};

