import type { KMSClientConfig } from "@aws-sdk/client-kms";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { Config } from "@/lib/config";
import type { Partition } from "./arn";

// Where Custody's AWS credentials come from, in production as in the demo:
//
// - nothing set: the AWS SDK's default chain (environment, profile, web identity / IRSA,
//   container or instance role), which is what a deployment on AWS should use;
// - KMS_ACCESS_KEY_ID / KMS_SECRET_ACCESS_KEY: static keys (both or neither);
// - KMS_ROLE_ARN (+ optional KMS_ROLE_EXTERNAL_ID, KMS_ROLE_SESSION_NAME): Custody assumes that
//   role with STS, starting from either of the above, through the SDK's own
//   fromTemporaryCredentials. Each KMS client caches the session and assumes the role again
//   before it expires. Every KMS call is then made as
//   arn:aws:sts::<vendor account>:assumed-role/<role>/<session>, which AWS evaluates against
//   policies and grants naming the role's ARN.

export type AwsCredentialSettings = {
  partition: Partition;
  accessKeyId?: string;
  secretAccessKey?: string;
  roleArn?: string;
  externalId?: string;
  sessionName: string;
  /** Only for a VPC or FIPS STS endpoint, or the development KMS. */
  stsEndpoint?: string;
  /** The STS region; the partition's usual one by default. */
  stsRegion?: string;
  maxAttempts: number;
};

export type AwsCredentials = NonNullable<KMSClientConfig["credentials"]>;

/** The name Custody's KMS error mapping gives a failure to assume its role (lib/kms/errors.ts: credentials). */
export const ASSUME_ROLE_ERROR = "AssumeRoleError";

/** A refusal or failure of STS AssumeRole; `stsCode` (e.g. AccessDenied) is safe to log, the message is ours. */
export class AssumeRoleError extends Error {
  override name = ASSUME_ROLE_ERROR;
  constructor(
    readonly roleArn: string,
    readonly stsCode: string,
  ) {
    super(`Custody could not assume its AWS role ${roleArn} (STS: ${stsCode}).`);
  }
}

const STS_REGION: Record<Partition, string> = { aws: "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1" };

export function stsRegionOf(settings: Pick<AwsCredentialSettings, "partition" | "stsRegion">): string {
  return settings.stsRegion ?? STS_REGION[settings.partition];
}

/** Static keys when both are set; undefined for the SDK's default chain. */
export function baseCredentials(settings: AwsCredentialSettings): AwsCredentials | undefined {
  return settings.accessKeyId && settings.secretAccessKey
    ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
    : undefined;
}

/** The credentials for Custody's AWS clients: undefined means the SDK's default chain. */
export function awsCredentials(settings: AwsCredentialSettings): AwsCredentials | undefined {
  const base = baseCredentials(settings);
  const roleArn = settings.roleArn;
  if (!roleArn) return base;
  const assume = fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: settings.sessionName, ExternalId: settings.externalId },
    // Without static keys the SDK's default chain supplies the credentials that assume the role.
    masterCredentials: base,
    clientConfig: { region: stsRegionOf(settings), endpoint: settings.stsEndpoint, maxAttempts: settings.maxAttempts },
  });
  return async (properties) => {
    try {
      return await assume(properties);
    } catch (error) {
      // STS answered and refused (trust policy, external id, expired base credentials): the
      // vendor's configuration. STS not reached at all stays a network failure (unreachable).
      const answered = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      if (answered?.$metadata?.httpStatusCode === undefined) throw error;
      throw new AssumeRoleError(roleArn, answered.name ?? "UnknownError");
    }
  };
}

/** The settings above, from Custody's configuration. */
export function credentialSettingsOf(config: Config): AwsCredentialSettings {
  return {
    partition: config.KMS_PARTITION,
    accessKeyId: config.KMS_ACCESS_KEY_ID,
    secretAccessKey: config.KMS_SECRET_ACCESS_KEY,
    roleArn: config.KMS_ROLE_ARN,
    externalId: config.KMS_ROLE_EXTERNAL_ID,
    sessionName: config.KMS_ROLE_SESSION_NAME,
    stsEndpoint: config.KMS_STS_ENDPOINT,
    stsRegion: config.KMS_STS_REGION,
    maxAttempts: config.KMS_MAX_ATTEMPTS,
  };
}
