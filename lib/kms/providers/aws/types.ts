// AWS KMS as Custody calls it (client.ts, on @aws-sdk/client-kms): the calls the AWS provider's
// definition (definition.ts) builds Custody's provider-neutral KmsClient from, plus the grant
// calls revocation and the tests use. Every cryptographic call carries the tenant's encryption
// context, so a key policy can scope the vendor to one tenant and a ciphertext cannot be
// replayed under another tenant.

export type EncryptionContext = Readonly<Record<string, string>>;

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion" | "PendingImport" | "Unavailable" | "Creating" | "Updating" | "PendingReplicaDeletion" | "Unknown";

export type AwsKeyDescription = {
  arn: string;
  keyId: string;
  state: KeyState;
  enabled: boolean;
  keySpec: string | null;
  keyUsage: string | null;
  multiRegion: boolean;
  deletionDate: Date | null;
};

export type DataKey = { plaintext: Buffer; ciphertext: Buffer };

export type GrantOperation = "Decrypt" | "Encrypt" | "GenerateDataKey" | "DescribeKey" | "RetireGrant";

export type GrantSpec = {
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: GrantOperation[];
  /** The grant applies only to requests whose encryption context includes these pairs. */
  encryptionContextSubset?: EncryptionContext;
  name?: string;
};

export type Grant = {
  grantId: string;
  name: string | null;
  granteePrincipal: string | null;
  retiringPrincipal: string | null;
  operations: string[];
  encryptionContextSubset: Record<string, string> | null;
  encryptionContextEquals: Record<string, string> | null;
};

export interface AwsKmsApi {
  describeKey(keyArn: string): Promise<AwsKeyDescription>;
  generateDataKey(keyArn: string, context: EncryptionContext): Promise<DataKey>;
  decrypt(keyArn: string, ciphertext: Uint8Array, context: EncryptionContext): Promise<Buffer>;
  /** Encrypt: wraps an existing tenant key under this key (rotation across keys). */
  encrypt(keyArn: string, plaintext: Uint8Array, context: EncryptionContext): Promise<Buffer>;
  createGrant(keyArn: string, grant: GrantSpec): Promise<{ grantId: string; grantToken: string }>;
  listGrants(keyArn: string): Promise<Grant[]>;
  retireGrant(keyArn: string, grantId: string): Promise<void>;
  revokeGrant(keyArn: string, grantId: string): Promise<void>;
}
