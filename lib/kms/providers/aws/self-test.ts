import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { awsCredentials, baseCredentials, stsRegionOf, type AwsCredentialSettings } from "./credentials";
import { vendorPrincipalOf } from "./vendor-policy";
import { isKmsError, VENDOR_SIDE_ERROR_KINDS, type KmsErrorKind } from "@/lib/kms/errors";
import type { AwsKmsApi as KmsProvider, EncryptionContext } from "./types";

// The AWS half of the vendor's self-test (lib/fleet/vendor-self-test.ts runs it for the
// console): do Custody's credentials resolve (STS GetCallerIdentity, assuming the role when one
// is configured), is the identity they resolve to the principal tenants were told to admit,
// and, for a tenant's key, does a refusal come from the vendor's side (the role's IAM policy,
// its credentials, the network path) or from the customer's (key policy, grant, key state).

export type IdentityCheck =
  | { ok: true; arn: string; account: string; matchesVendorPrincipal: boolean }
  /** `startsAs`: what the base credentials resolve to, when assuming the role failed. */
  | { ok: false; problem: string; startsAs?: string };

export type ProbeSide = "ok" | "vendor" | "customer" | "inconclusive";
export type KeyProbe = { side: ProbeSide; kind?: KmsErrorKind; message: string };

function stsClient(settings: AwsCredentialSettings, credentials: ReturnType<typeof awsCredentials>): STSClient {
  return new STSClient({
    region: stsRegionOf(settings),
    endpoint: settings.stsEndpoint,
    credentials,
    maxAttempts: settings.maxAttempts,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
}

async function callerIdentity(settings: AwsCredentialSettings, credentials: ReturnType<typeof awsCredentials>) {
  const client = stsClient(settings, credentials);
  try {
    return await client.send(new GetCallerIdentityCommand({}));
  } finally {
    client.destroy();
  }
}

/**
 * Whether an identity is the configured vendor principal. An assumed-role session
 * (arn:…:sts::<account>:assumed-role/<role>/<session>) is its role: same partition, account and
 * role name (a session ARN carries no role path).
 */
export function identityMatches(identityArn: string, vendorPrincipalArn: string): boolean {
  if (identityArn === vendorPrincipalArn) return true;
  const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(identityArn);
  if (!session || !/:role\//.test(vendorPrincipalArn)) return false;
  const vendor = vendorPrincipalOf(vendorPrincipalArn);
  return session[1] === vendor.partition && session[2] === vendor.accountId && session[3] === vendor.name;
}

/** Resolves Custody's credentials and says who they are; never throws. */
export async function checkIdentity(settings: AwsCredentialSettings, vendorPrincipalArn: string): Promise<IdentityCheck> {
  try {
    const identity = await callerIdentity(settings, awsCredentials(settings));
    const arn = identity.Arn ?? "";
    return { ok: true, arn, account: identity.Account ?? "", matchesVendorPrincipal: identityMatches(arn, vendorPrincipalArn) };
  } catch (error) {
    const name = (error as { name?: string } | undefined)?.name ?? "UnknownError";
    if (!settings.roleArn || name !== "AssumeRoleError") {
      return { ok: false, problem: `Custody's AWS credentials did not resolve (${name}): check the credentials Custody starts with and the path to STS.` };
    }
    const startsAs = await callerIdentity(settings, baseCredentials(settings)).then((base) => base.Arn, () => undefined);
    const stsCode = (error as { stsCode?: string }).stsCode ?? "UnknownError";
    return {
      ok: false,
      problem: `Custody could not assume its role ${settings.roleArn} (STS: ${stsCode}). The role's trust policy must allow sts:AssumeRole for the identity Custody starts as${settings.externalId ? ", with the configured external id" : ""}.`,
      startsAs,
    };
  }
}

/** Makes the calls Custody makes with a tenant's key (DescribeKey, GenerateDataKey, Decrypt) and says which side refused. */
export async function probeKey(provider: KmsProvider, keyArn: string, context: EncryptionContext): Promise<KeyProbe> {
  try {
    await provider.describeKey(keyArn);
    const dataKey = await provider.generateDataKey(keyArn, context);
    dataKey.plaintext.fill(0);
    (await provider.decrypt(keyArn, dataKey.ciphertext, context)).fill(0);
    return { side: "ok", message: "DescribeKey, GenerateDataKey and Decrypt succeeded." };
  } catch (error) {
    if (!isKmsError(error)) throw error;
    const side: ProbeSide = VENDOR_SIDE_ERROR_KINDS.includes(error.kind)
      ? "vendor"
      : error.kind === "unreachable" || error.kind === "throttled"
        ? "inconclusive"
        : "customer";
    return { side, kind: error.kind, message: error.message };
  }
}
