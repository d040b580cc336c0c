import { invalidArgument, permissionDenied } from "./errors";
import type { CryptoKey, IamBinding } from "./model";

// IAM as Cloud KMS enforces it on a crypto key: a caller may do what a role bound to it on the
// key grants; the project's administrators (the customer) may do everything. Members are
// written as in IAM policies, `serviceAccount:<email>`. Only the predefined roles Custody's
// instructions use, and the administrator's, are known; a policy naming another role is
// refused, so a typo cannot pass silently.

export type Permission =
  | "cloudkms.cryptoKeys.get"
  | "cloudkms.cryptoKeys.create"
  | "cloudkms.cryptoKeys.update"
  | "cloudkms.cryptoKeys.getIamPolicy"
  | "cloudkms.cryptoKeys.setIamPolicy"
  | "cloudkms.cryptoKeyVersions.get"
  | "cloudkms.cryptoKeyVersions.list"
  | "cloudkms.cryptoKeyVersions.create"
  | "cloudkms.cryptoKeyVersions.update"
  | "cloudkms.cryptoKeyVersions.destroy"
  | "cloudkms.cryptoKeyVersions.restore"
  | "cloudkms.cryptoKeyVersions.useToEncrypt"
  | "cloudkms.cryptoKeyVersions.useToDecrypt"
  | "cloudkms.keyRings.create";

const VIEW: Permission[] = ["cloudkms.cryptoKeys.get", "cloudkms.cryptoKeyVersions.get", "cloudkms.cryptoKeyVersions.list"];

export const ROLES: Record<string, readonly Permission[]> = {
  "roles/cloudkms.cryptoKeyEncrypterDecrypter": ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeyVersions.useToDecrypt"],
  "roles/cloudkms.cryptoKeyEncrypter": ["cloudkms.cryptoKeyVersions.useToEncrypt"],
  "roles/cloudkms.cryptoKeyDecrypter": ["cloudkms.cryptoKeyVersions.useToDecrypt"],
  "roles/cloudkms.viewer": VIEW,
  "roles/cloudkms.admin": [
    ...VIEW,
    "cloudkms.cryptoKeys.create",
    "cloudkms.cryptoKeys.update",
    "cloudkms.cryptoKeys.getIamPolicy",
    "cloudkms.cryptoKeys.setIamPolicy",
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.update",
    "cloudkms.cryptoKeyVersions.destroy",
    "cloudkms.cryptoKeyVersions.restore",
    "cloudkms.keyRings.create",
  ],
};

export type Caller = { email: string; projectAdmin: boolean };

export const memberOf = (caller: Caller) => `serviceAccount:${caller.email}`;

/** Throws PERMISSION_DENIED unless the caller holds `permission` on `key` (or is a project administrator). */
export function authorize(caller: Caller, permission: Permission, resource: string, key: CryptoKey | undefined): void {
  if (caller.projectAdmin) return;
  const member = memberOf(caller);
  const allowed = key?.policy.bindings.some((b) => b.members.includes(member) && ROLES[b.role]?.includes(permission));
  if (!allowed) throw permissionDenied(permission, resource);
}

/** Checks a policy's bindings as setIamPolicy receives them. */
export function parseBindings(value: unknown): IamBinding[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidArgument("Invalid JSON payload: policy.bindings must be a list.");
  return value.map((entry: unknown) => {
    const { role, members } = (entry ?? {}) as { role?: unknown; members?: unknown };
    if (typeof role !== "string" || !ROLES[role]) throw invalidArgument(`Role ${String(role)} is not supported for this resource.`);
    if (!Array.isArray(members) || !members.every((m) => typeof m === "string" && /^(serviceAccount|user|group):\S+@\S+$/.test(m))) {
      throw invalidArgument("Invalid argument: each member must be 'serviceAccount:<email>', 'user:<email>' or 'group:<email>'.");
    }
    return { role, members: members as string[] };
  });
}
