import {
  CreateGrantCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { parseKeyArn, type Partition } from "./arn";
import { type AwsKmsOperation, awsKmsError, toKmsError } from "./errors";
import type { AwsKeyDescription, AwsKmsApi, EncryptionContext, Grant, GrantSpec, KeyState } from "./types";
import type { AwsCredentials } from "./credentials";

export type AwsKmsConfig = {
  partition: Partition;
  /** Only set to reach a KMS-compatible endpoint (VPC endpoint, FIPS endpoint, the development KMS). */
  endpoint?: string;
  /** Static keys or a provider (an assumed role: aws-credentials.ts); unset means the SDK's default chain. */
  credentials?: AwsCredentials;
  /** Attempts per call, including the first; the SDK's standard retry backs off with jitter on throttling. */
  maxAttempts: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
};

export const DEFAULT_AWS_KMS_CONFIG: Omit<AwsKmsConfig, "partition"> = {
  maxAttempts: 3,
  connectTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
};

/** AWS KMS on the official SDK: one SDK client per region, the region taken from each key's ARN. */
export function createAwsKmsApi(config: AwsKmsConfig): AwsKmsApi {
  const clients = new Map<string, KMSClient>();

  function parsed(keyArn: string, operation: AwsKmsOperation) {
    try {
      return parseKeyArn(keyArn, config.partition);
    } catch {
      throw awsKmsError("invalid_request", operation, "InvalidArn");
    }
  }

  function clientFor(region: string): KMSClient {
    let client = clients.get(region);
    if (!client) {
      client = new KMSClient({
        region,
        endpoint: config.endpoint,
        credentials: config.credentials,
        maxAttempts: config.maxAttempts,
        retryMode: "standard",
        // Without throwOnRequestTimeout the SDK only warns and lets a hung call run for minutes.
        requestHandler: { connectionTimeout: config.connectTimeoutMs, requestTimeout: config.requestTimeoutMs, throwOnRequestTimeout: true },
      });
      clients.set(region, client);
    }
    return client;
  }

  /** Validates the ARN (sending KMS its canonical form) and maps every failure to a KmsError. */
  async function call<T>(operation: AwsKmsOperation, keyArn: string, run: (client: KMSClient, arn: string) => Promise<T>): Promise<T> {
    const key = parsed(keyArn, operation);
    const client = clientFor(key.region);
    try {
      return await run(client, key.arn);
    } catch (error) {
      throw toKmsError(error, operation);
    }
  }

  const context = (c: EncryptionContext) => ({ ...c });

  return {
    describeKey: (keyArn) =>
      call("DescribeKey", keyArn, async (client, arn) => {
        const { KeyMetadata: key } = await client.send(new DescribeKeyCommand({ KeyId: arn }));
        if (!key?.Arn || !key.KeyId) throw awsKmsError("invalid_request", "DescribeKey", "EmptyResponse");
        return {
          arn: key.Arn,
          keyId: key.KeyId,
          state: (key.KeyState ?? "Unknown") as KeyState,
          enabled: key.Enabled === true,
          keySpec: key.KeySpec ?? null,
          keyUsage: key.KeyUsage ?? null,
          multiRegion: key.MultiRegion === true,
          deletionDate: key.DeletionDate ?? null,
        } satisfies AwsKeyDescription;
      }),

    generateDataKey: (keyArn, encryptionContext) =>
      call("GenerateDataKey", keyArn, async (client, arn) => {
        const out = await client.send(
          new GenerateDataKeyCommand({ KeyId: arn, KeySpec: "AES_256", EncryptionContext: context(encryptionContext) }),
        );
        if (!out.Plaintext || !out.CiphertextBlob) throw awsKmsError("invalid_request", "GenerateDataKey", "EmptyResponse");
        return { plaintext: Buffer.from(out.Plaintext), ciphertext: Buffer.from(out.CiphertextBlob) };
      }),

    decrypt: (keyArn, ciphertext, encryptionContext) =>
      call("Decrypt", keyArn, async (client, arn) => {
        const out = await client.send(
          new DecryptCommand({ KeyId: arn, CiphertextBlob: ciphertext, EncryptionContext: context(encryptionContext) }),
        );
        if (!out.Plaintext) throw awsKmsError("invalid_request", "Decrypt", "EmptyResponse");
        return Buffer.from(out.Plaintext);
      }),

    encrypt: (keyArn, plaintext, encryptionContext) =>
      call("Encrypt", keyArn, async (client, arn) => {
        const out = await client.send(new EncryptCommand({ KeyId: arn, Plaintext: plaintext, EncryptionContext: context(encryptionContext) }));
        if (!out.CiphertextBlob) throw awsKmsError("invalid_request", "Encrypt", "EmptyResponse");
        return Buffer.from(out.CiphertextBlob);
      }),

    createGrant: (keyArn, grant: GrantSpec) =>
      call("CreateGrant", keyArn, async (client, arn) => {
        const out = await client.send(
          new CreateGrantCommand({
            KeyId: arn,
            GranteePrincipal: grant.granteePrincipal,
            RetiringPrincipal: grant.retiringPrincipal,
            Operations: grant.operations,
            Name: grant.name,
            Constraints: grant.encryptionContextSubset ? { EncryptionContextSubset: context(grant.encryptionContextSubset) } : undefined,
          }),
        );
        if (!out.GrantId || !out.GrantToken) throw awsKmsError("invalid_request", "CreateGrant", "EmptyResponse");
        return { grantId: out.GrantId, grantToken: out.GrantToken };
      }),

    listGrants: (keyArn) =>
      call("ListGrants", keyArn, async (client, arn) => {
        const grants: Grant[] = [];
        let marker: string | undefined;
        do {
          const out = await client.send(new ListGrantsCommand({ KeyId: arn, Marker: marker }));
          for (const g of out.Grants ?? []) {
            grants.push({
              grantId: g.GrantId ?? "",
              name: g.Name ?? null,
              granteePrincipal: g.GranteePrincipal ?? null,
              retiringPrincipal: g.RetiringPrincipal ?? null,
              operations: g.Operations ?? [],
              encryptionContextSubset: g.Constraints?.EncryptionContextSubset ?? null,
              encryptionContextEquals: g.Constraints?.EncryptionContextEquals ?? null,
            });
          }
          marker = out.Truncated ? out.NextMarker : undefined;
        } while (marker);
        return grants;
      }),

    retireGrant: (keyArn, grantId) =>
      call("RetireGrant", keyArn, async (client, arn) => {
        await client.send(new RetireGrantCommand({ KeyId: arn, GrantId: grantId }));
      }),

    revokeGrant: (keyArn, grantId) =>
      call("RevokeGrant", keyArn, async (client, arn) => {
        await client.send(new RevokeGrantCommand({ KeyId: arn, GrantId: grantId }));
      }),
  };
}
