import type { EncryptionContext } from "./crypto";

// The persisted records and the ARNs that name them. Records are plain JSON-compatible data
// (times in epoch milliseconds, key material base64) so that the store can clone, validate and
// serialise them without custom code.

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

export type KeyRecord = {
  keyId: string;
  accountId: string;
  region: string;
  createdAt: number;
  description: string;
  state: KeyState;
  /** When a key pending deletion is deleted (epoch ms); only in PendingDeletion. */
  deletionDate?: number;
  multiRegion: boolean;
  /** The key policy document exactly as it was given (or the default one). */
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  /** 256-bit key material, base64. Exists only inside the encrypted store and in memory. */
  material: string;
  /** Identifies the key material, as KMS's KeyMaterialId does (64 hex digits). */
  keyMaterialId: string;
};

export type AliasRecord = {
  /** "alias/<name>" */
  aliasName: string;
  accountId: string;
  region: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
};

export type GrantConstraint = {
  type: "EncryptionContextEquals" | "EncryptionContextSubset";
  context: EncryptionContext;
};

export type GrantRecord = {
  grantId: string;
  /** ARN of the key the grant is on. */
  keyArn: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraint?: GrantConstraint;
  /** Account root ARN of the principal that created the grant. */
  issuingAccount: string;
  createdAt: number;
};

export type StoreState = {
  /** By key ARN. */
  keys: Map<string, KeyRecord>;
  /** By alias ARN. */
  aliases: Map<string, AliasRecord>;
  /** By grant id. */
  grants: Map<string, GrantRecord>;
};

export function emptyState(): StoreState {
  return { keys: new Map(), aliases: new Map(), grants: new Map() };
}

export function keyArn(accountId: string, region: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export function keyArnOf(key: Pick<KeyRecord, "accountId" | "region" | "keyId">): string {
  return keyArn(key.accountId, key.region, key.keyId);
}

export function aliasArn(accountId: string, region: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}

export function aliasArnOf(alias: Pick<AliasRecord, "accountId" | "region" | "aliasName">): string {
  return aliasArn(alias.accountId, alias.region, alias.aliasName);
}

/** KMS timestamps travel as epoch seconds (with a fraction) in the JSON protocol. */
export function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}
