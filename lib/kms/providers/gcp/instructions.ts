import type { GcpKeyRef } from "./key-ref";

// What the customer runs so Custody may use their key: two IAM bindings on the key itself
// (never the key ring or project) for Custody's service account. roles/cloudkms.cryptoKeyEncrypterDecrypter
// lets Custody wrap and unwrap the tenant key; roles/cloudkms.viewer lets verify read the
// key's purpose and primary version's state, so a disabled or destroyed version is named as
// such. Cloud KMS IAM cannot condition on the additional authenticated data: the tenant
// binding is enforced cryptographically (a wrapped key opens only with its tenant's AAD).

export const GCP_ROLES = {
  encrypterDecrypter: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
  viewer: "roles/cloudkms.viewer",
} as const;

export type GcpAccessInstructions = {
  /** `gcloud kms keys add-iam-policy-binding` for each role, ready to paste. */
  gcloudCommands: string;
  /** The same bindings as they appear in the key's IAM policy (for Terraform or the console). */
  policyBindings: string;
  member: string;
};

export function gcpAccessInstructions(key: GcpKeyRef, serviceAccount: string): GcpAccessInstructions {
  const member = `serviceAccount:${serviceAccount}`;
  const command = (role: string) =>
    [
      `gcloud kms keys add-iam-policy-binding ${key.cryptoKey}`,
      `  --project ${key.project} --location ${key.location} --keyring ${key.keyRing}`,
      `  --member ${member} --role ${role}`,
    ].join(" \\\n");
  const roles = [GCP_ROLES.encrypterDecrypter, GCP_ROLES.viewer];
  return {
    member,
    gcloudCommands: roles.map(command).join("\n\n"),
    policyBindings: JSON.stringify({ bindings: roles.map((role) => ({ role, members: [member] })) }, null, 2),
  };
}
