import { z } from "zod";
import type { Config } from "@/lib/config";
import type { KeyRef, KmsProviderDefinition } from "@/lib/kms/provider";
import { createGcpKms } from "./client";
import { toGcpKmsError } from "./errors";
import { GCP_ICON } from "./icon";
import { gcpAccessInstructions, GCP_ROLES } from "./instructions";
import { GcpKeyRefError, parseGcpKeyRef, type GcpKeyRef } from "./key-ref";
import { createGcpKmsClient, tenantAad } from "./kms-client";
import { gcpKmsSettings } from "./settings";

// Google Cloud KMS as a Custody KMS provider: the crypto key's resource name is the reference,
// IAM bindings on the key are the customer's access, a locally drawn tenant key is wrapped with
// Encrypt (additional authenticated data naming the tenant) and unwrapped with Decrypt.

const MAX_NAME = 600;

const refOf = (key: KeyRef): GcpKeyRef => parseGcpKeyRef(key.ref);

const registrationSchema = () =>
  z.object({ name: z.string().max(MAX_NAME, "That is too long for a Cloud KMS key name.") }).transform((input, ctx) => {
    try {
      const { name, project, location, keyRing, cryptoKey } = parseGcpKeyRef(input.name);
      return { ref: name, details: { project, location, keyRing, cryptoKey } };
    } catch (error) {
      ctx.addIssue({ code: "custom", path: ["name"], message: error instanceof GcpKeyRefError ? error.message : "Not a Cloud KMS key name." });
      return z.NEVER;
    }
  });

const serviceAccountOf = (config: Config) => gcpKmsSettings(config).serviceAccount ?? "custody@<vendor project>.iam.gserviceaccount.com";

export const gcpKmsProvider: KmsProviderDefinition = {
  name: "gcp",
  display: {
    label: "Google Cloud KMS",
    icon: GCP_ICON,
    referenceLabel: "Key resource name",
    location: (key) => refOf(key).location,
    facts: (key) => {
      const ref = refOf(key);
      return [`project ${ref.project}`, `key ring ${ref.keyRing}`];
    },
    tenantBinding: (tenantId) => ({ label: "Additional authenticated data", value: tenantAad(tenantId).toString("utf8") }),
  },
  configured: (config) => config.GCP_KMS_SERVICE_ACCOUNT !== undefined || config.GCP_KMS_CREDENTIALS_FILE !== undefined,
  registration: {
    fields: [
      {
        name: "name",
        label: "Key resource name",
        hint: "The crypto key's name, e.g. projects/acme-prod/locations/europe-west1/keyRings/custody/cryptoKeys/tenant-key (gcloud kms keys describe … --format='value(name)'). Not a key version: Custody encrypts with the primary version.",
        code: true,
      },
    ],
    schema: registrationSchema,
  },
  createClient: (config) => createGcpKmsClient(createGcpKms(gcpKmsSettings(config).client)),
  toKmsError: toGcpKmsError,
  instructions: ({ key, config }) => {
    const { gcloudCommands, policyBindings } = gcpAccessInstructions(refOf(key), serviceAccountOf(config));
    return [
      {
        id: "gcloud-bindings",
        title: "Give Custody's service account two roles on this key",
        text: `${GCP_ROLES.encrypterDecrypter} lets Custody wrap and unwrap this tenant's key; ${GCP_ROLES.viewer} lets Verify read the key's purpose and its primary version's state. Bind them on the key itself, not the key ring or project, so Custody can use no other key.`,
        code: gcloudCommands,
        language: "shell",
      },
      {
        id: "policy-bindings",
        title: "Or add these bindings to the key's IAM policy",
        text: "The same two bindings as they appear in the key's IAM policy (for Terraform's google_kms_crypto_key_iam_member or the console's Permissions tab). Each wrapped tenant key is also bound to this tenant by its additional authenticated data, so it cannot be opened for another tenant.",
        code: policyBindings,
        language: "json",
      },
    ];
  },
  vendorSetup: (config) => [
    {
      id: "vendor-service-account",
      title: "Custody's Google service account",
      text: "Customers bind roles on their keys to this service account (GCP_KMS_SERVICE_ACCOUNT, or the key file's client_email). It needs no role in your own project for Cloud KMS.",
      code: serviceAccountOf(config),
      language: "text",
    },
    {
      id: "vendor-credentials",
      title: "Its credentials",
      text: "Run Custody with the service account attached (workload identity or the VM's service account: nothing to configure), or create a key and set GCP_KMS_CREDENTIALS_FILE to it.",
      code: "gcloud iam service-accounts keys create custody-gcp-key.json \\\n  --iam-account custody@<vendor project>.iam.gserviceaccount.com",
      language: "shell",
    },
  ],
  verify: {
    summary:
      "Wraps a new tenant key with Encrypt and unwraps it with Decrypt, both with this tenant's additional authenticated data, then reads the key (its purpose and primary version's state), live against your Cloud KMS. Success makes this key the tenant's primary.",
    propagationNote: "A new IAM binding usually applies within a minute, occasionally up to seven; Verify keeps trying meanwhile.",
    steps: {
      generate: { name: "Encrypt", success: "Cloud KMS wrapped a new 256-bit tenant key under this key, bound to the tenant by its additional authenticated data." },
      unwrap: { name: "Decrypt", success: "Cloud KMS unwrapped the tenant key with the tenant's additional authenticated data." },
      describe: { name: "GetCryptoKey", success: "The key is a symmetric encryption key and its primary version is enabled." },
    },
    // IAM changes on Google Cloud take effect eventually (typically a minute, up to seven).
    retryWhilePropagating: ["access_denied"],
  },
  revocation: {
    summary:
      "Custody refuses every call for the tenant at once. Custody holds nothing in your Cloud KMS it could remove: to cut access there too, remove the two IAM bindings (gcloud kms keys remove-iam-policy-binding), or disable the key's versions.",
  },
};
