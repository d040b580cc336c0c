import {
  CreateGrantCommand,
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListGrantsCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { parseKeyArn, type Partition } from "./arn";
import { KmsError, type KmsOperation, toKmsError } from "./errors";
import type { EncryptionContext, Grant, GrantSpec, KeyDescription, KeyState, KmsProvider } from "./provider";

export type AwsKmsConfig = {
  partition: Partition;
  /** Only set to reach a KMS-compatible endpoint (VPC endpoint, FIPS endpoint, the development KMS). */
  endpoint?: string;
  /** Static credentials; unset means the AWS SDK's default chain (env, profile, instance role …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
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

/** The AWS KMS provider: one SDK client per region, the region taken from each key's ARN. */
export function createAwsKmsProvider(config: AwsKmsConfig): KmsProvider {
  const clients = new Map<string, KMSClient>();

  function clientFor(keyArn: string, operation: KmsOperation): KMSClient {
    let region: string;
    try {
      region = parseKeyArn(keyArn, config.partition).region;
    } catch {
      throw new KmsError("invalid_request", operation, "InvalidArn");
    }
    let client = clients.get(region);
    if (!client) {
      client = new KMSClient({
        region,
        endpoint: config.endpoint,
        credentials: config.credentials,
        maxAttempts: config.maxAttempts,
        retryMode: "standard",
        requestHandler: { connectionTimeout: config.connectTimeoutMs, requestTimeout: config.requestTimeoutMs },
      });
      clients.set(region, client);
    }
    return client;
  }

  async function call<T>(operation: KmsOperation, keyArn: string, run: (client: KMSClient) => Promise<T>): Promise<T> {
    const client = clientFor(keyArn, operation);
    try {
      return await run(client);
    } catch (error) {
      throw toKmsError(error, operation);
    }
  }

  const context = (c: EncryptionContext) => ({ ...c });

  return {
    describeKey: (keyArn) =>
      call("DescribeKey", keyArn, async (client) => {
        const { KeyMetadata: key } = await client.send(new DescribeKeyCommand({ KeyId: keyArn }));
        if (!key?.Arn || !key.KeyId) throw new KmsError("invalid_request", "DescribeKey", "EmptyResponse");
        return {
          arn: key.Arn,
          keyId: key.KeyId,
          state: (key.KeyState ?? "Unknown") as KeyState,
          enabled: key.Enabled === true,
          keySpec: key.KeySpec ?? null,
          keyUsage: key.KeyUsage ?? null,
          multiRegion: key.MultiRegion === true,
          deletionDate: key.DeletionDate ?? null,
        } satisfies KeyDescription;
      }),

    generateDataKey: (keyArn, encryptionContext) =>
      call("GenerateDataKey", keyArn, async (client) => {
        const out = await client.send(
          new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256", EncryptionContext: context(encryptionContext) }),
        );
        if (!out.Plaintext || !out.CiphertextBlob) throw new KmsError("invalid_request", "GenerateDataKey", "EmptyResponse");
        return { plaintext: Buffer.from(out.Plaintext), ciphertext: Buffer.from(out.CiphertextBlob) };
      }),

    decrypt: (keyArn, ciphertext, encryptionContext) =>
      call("Decrypt", keyArn, async (client) => {
        const out = await client.send(
          new DecryptCommand({ KeyId: keyArn, CiphertextBlob: ciphertext, EncryptionContext: context(encryptionContext) }),
        );
        if (!out.Plaintext) throw new KmsError("invalid_request", "Decrypt", "EmptyResponse");
        return Buffer.from(out.Plaintext);
      }),

    reEncrypt: (source, ciphertext, destination) =>
      call("ReEncrypt", destination.keyArn, async (client) => {
        const out = await client.send(
          new ReEncryptCommand({
            CiphertextBlob: ciphertext,
            SourceKeyId: source.keyArn,
            SourceEncryptionContext: context(source.context),
            DestinationKeyId: destination.keyArn,
            DestinationEncryptionContext: context(destination.context),
          }),
        );
        if (!out.CiphertextBlob) throw new KmsError("invalid_request", "ReEncrypt", "EmptyResponse");
        return Buffer.from(out.CiphertextBlob);
      }),

    createGrant: (keyArn, grant: GrantSpec) =>
      call("CreateGrant", keyArn, async (client) => {
        const out = await client.send(
          new CreateGrantCommand({
            KeyId: keyArn,
            GranteePrincipal: grant.granteePrincipal,
            RetiringPrincipal: grant.retiringPrincipal,
            Operations: grant.operations,
            Name: grant.name,
            Constraints: grant.encryptionContextSubset ? { EncryptionContextSubset: context(grant.encryptionContextSubset) } : undefined,
          }),
        );
        if (!out.GrantId || !out.GrantToken) throw new KmsError("invalid_request", "CreateGrant", "EmptyResponse");
        return { grantId: out.GrantId, grantToken: out.GrantToken };
      }),

    listGrants: (keyArn) =>
      call("ListGrants", keyArn, async (client) => {
        const grants: Grant[] = [];
        let marker: string | undefined;
        do {
          const out = await client.send(new ListGrantsCommand({ KeyId: keyArn, Marker: marker }));
          for (const g of out.Grants ?? []) {
            grants.push({
              grantId: g.GrantId ?? "",
              name: g.Name ?? null,
              granteePrincipal: g.GranteePrincipal ?? null,
              retiringPrincipal: g.RetiringPrincipal ?? null,
              operations: g.Operations ?? [],
              encryptionContextSubset: g.Constraints?.EncryptionContextSubset ?? null,
            });
          }
          marker = out.Truncated ? out.NextMarker : undefined;
        } while (marker);
        return grants;
      }),

    retireGrant: (keyArn, grantId) =>
      call("RetireGrant", keyArn, async (client) => {
        await client.send(new RetireGrantCommand({ KeyId: keyArn, GrantId: grantId }));
      }),

    revokeGrant: (keyArn, grantId) =>
      call("RevokeGrant", keyArn, async (client) => {
        await client.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grantId }));
      }),
  };
}
