import { parseIdentityPolicy, parseTrustPolicy, type KeyPolicy } from "./policy";

// The callers the server knows: static access keys mapped to IAM identities. There is no
// IAM service behind them; each principal's identity-based (IAM) policy is given with it:
// - `admin: true` stands for "this principal's IAM policies allow every KMS action" (as
//   AdministratorAccess would);
// - `identityPolicy` is an IAM policy document (statements with Action, Resource and
//   Condition, no Principal), evaluated as IAM would, explicit Deny included;
// - neither: the principal's IAM policies allow nothing, so it can act only where a key policy
//   of its own account names it (or "*") or a grant is made to it. A caller from another
//   account than the key's needs its identity policy to allow the action as well as the key
//   policy (access.ts).

export type DevKmsPrincipalConfig = {
  secretAccessKey: string;
  /** IAM ARN of the caller, e.g. arn:aws:iam::111122223333:role/custody-vendor. */
  arn: string;
  /** The principal's IAM policies allow all KMS actions (see above). */
  admin?: boolean;
  /** The principal's IAM policy document (JSON text or object), see above. */
  identityPolicy?: string | object;
};

export type Principal = {
  accessKeyId: string;
  secretAccessKey: string;
  /** The caller as AWS names it in errors and GetCallerIdentity (an assumed-role session's sts ARN). */
  arn: string;
  /**
   * The IAM ARN policies and grants name, and aws:PrincipalArn: the user's ARN, or for an
   * assumed-role session the role's (arn:aws:iam::<account>:role/<name>), as in AWS.
   */
  principalArn: string;
  accountId: string;
  admin: boolean;
  /** The parsed identity policy; replaced at run time by DevKms.setIdentityPolicy. */
  identityPolicy?: KeyPolicy;
};

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const IAM_PRINCIPAL_ARN = /^arn:aws:(?:iam::(\d{12}):(?:root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)|sts::(\d{12}):assumed-role\/[\w+=,.@/-]+)$/;

/** The account of an IAM or STS principal ARN, or undefined when it is not one. */
export function principalArnAccount(arn: string): string | undefined {
  const match = IAM_PRINCIPAL_ARN.exec(arn);
  return match ? (match[1] ?? match[2]) : undefined;
}

export function accountRootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** Checks the configured principals and indexes them by access key id; throws on bad config. */
export function loadPrincipals(config: Record<string, DevKmsPrincipalConfig>): Map<string, Principal> {
  const principals = new Map<string, Principal>();
  for (const [accessKeyId, entry] of Object.entries(config)) {
    if (!ACCESS_KEY_ID.test(accessKeyId)) {
      throw new Error(`Dev KMS principal "${accessKeyId}": an access key id is 16-128 upper-case letters and digits`);
    }
    if (typeof entry.secretAccessKey !== "string" || entry.secretAccessKey.length < 16) {
      throw new Error(`Dev KMS principal "${accessKeyId}": the secret access key must be at least 16 characters`);
    }
    const accountId = principalArnAccount(entry.arn);
    if (!accountId) {
      throw new Error(`Dev KMS principal "${accessKeyId}": "${entry.arn}" is not an IAM user, role, root or assumed-role ARN`);
    }
    let identityPolicy: KeyPolicy | undefined;
    try {
      identityPolicy = entry.identityPolicy === undefined ? undefined : parseIdentityPolicy(entry.identityPolicy);
    } catch (error) {
      throw new Error(`Dev KMS principal "${accessKeyId}": ${error instanceof Error ? error.message : String(error)}`);
    }
    principals.set(accessKeyId, {
      accessKeyId,
      secretAccessKey: entry.secretAccessKey,
      arn: entry.arn,
      principalArn: entry.arn,
      accountId,
      admin: entry.admin === true,
      identityPolicy,
    });
  }
  if (principals.size === 0) throw new Error("The dev KMS needs at least one principal");
  return principals;
}

// Roles: what AssumeRole (sts.ts) can hand out sessions of. A session's requests are decided
// by the role's identity policy; the role's trust policy decides who may assume it.

export type DevKmsRoleConfig = {
  /** The trust policy (who may assume the role, e.g. with an sts:ExternalId condition). */
  trustPolicy: string | object;
  /** The role's IAM policy document, as for a principal. */
  identityPolicy?: string | object;
  admin?: boolean;
  /** The longest session AssumeRole may give (AWS's MaxSessionDuration); 3600 by default. */
  maxSessionSeconds?: number;
};

export type Role = {
  arn: string;
  name: string;
  accountId: string;
  trustPolicy: KeyPolicy;
  identityPolicy?: KeyPolicy;
  admin: boolean;
  maxSessionSeconds: number;
};

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The account and name of an IAM role ARN, or undefined when it is not one. */
export function parseRoleArn(arn: string): { accountId: string; name: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { accountId: match[1]!, name: match[2]! } : undefined;
}

/** Checks the configured roles and indexes them by ARN; throws on bad config. */
export function loadRoles(config: Record<string, DevKmsRoleConfig>): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [arn, entry] of Object.entries(config)) {
    const parsed = parseRoleArn(arn);
    if (!parsed) throw new Error(`Dev KMS role "${arn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
    const maxSessionSeconds = entry.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(maxSessionSeconds) || maxSessionSeconds < 900 || maxSessionSeconds > 43200) {
      throw new Error(`Dev KMS role "${arn}": maxSessionSeconds must be 900-43200`);
    }
    try {
      roles.set(arn, {
        arn,
        ...parsed,
        trustPolicy: parseTrustPolicy(entry.trustPolicy),
        identityPolicy: entry.identityPolicy === undefined ? undefined : parseIdentityPolicy(entry.identityPolicy),
        admin: entry.admin === true,
        maxSessionSeconds,
      });
    } catch (error) {
      throw new Error(`Dev KMS role "${arn}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return roles;
}
