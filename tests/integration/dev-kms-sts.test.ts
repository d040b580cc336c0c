import { CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type Credentials } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEV_KMS_ACCOUNT_ID,
  DEV_KMS_CUSTOMER_ADMIN,
  DEV_KMS_REGION,
  DEV_KMS_VENDOR,
  DEV_KMS_VENDOR_RUNNER,
  devKmsClientConfig,
  type DevKmsCredentials,
} from "@/lib/dev/kms/defaults";
import { tenantContext } from "@/lib/kms/providers/aws/encryption-context";
import { keyPolicyAdmitting } from "@/lib/kms/providers/aws/instructions";
import { isKmsError } from "@/lib/kms/errors";
import { startTestDevKms, vendorKmsSettings, type TestDevKms } from "../helpers/dev-kms";

// Custody runs on a role, not on long-lived keys: the development KMS speaks STS (AssumeRole,
// GetCallerIdentity) to the official @aws-sdk/client-sts, evaluates the role's trust policy
// (sts:ExternalId included), and accepts the temporary credentials it issues on the KMS API
// as the role — until they expire. Custody's own provider gets there through the SDK's
// fromTemporaryCredentials.

const SESSION_ARN = `arn:aws:sts::999988887777:assumed-role/custody-vendor/${DEV_KMS_VENDOR.sessionName}`;
const TENANT = "8d0f8a2c-3a51-4c7e-9a4e-5f1d2b3c4d5e";

let devKms: TestDevKms;
let offsetMs = 0;
let admin: KMSClient;
const clients: Array<{ destroy(): void }> = [];

function sts(credentials: DevKmsCredentials | Credentials): STSClient {
  const client = new STSClient({
    endpoint: devKms.kms.endpoint,
    region: DEV_KMS_REGION,
    maxAttempts: 1,
    credentials:
      "arn" in credentials
        ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }
        : { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken },
  });
  clients.push(client);
  return client;
}

function kmsAs(credentials: Credentials, sessionToken = credentials.SessionToken): KMSClient {
  const client = new KMSClient({
    endpoint: devKms.kms.endpoint,
    region: DEV_KMS_REGION,
    maxAttempts: 1,
    credentials: { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken },
  });
  clients.push(client);
  return client;
}

async function assume(options: { externalId?: string; as?: DevKmsCredentials; roleArn?: string; duration?: number } = {}): Promise<Credentials> {
  const out = await sts(options.as ?? DEV_KMS_VENDOR_RUNNER).send(
    new AssumeRoleCommand({
      RoleArn: options.roleArn ?? DEV_KMS_VENDOR.arn,
      RoleSessionName: DEV_KMS_VENDOR.sessionName,
      ExternalId: "externalId" in options ? options.externalId : DEV_KMS_VENDOR.externalId,
      DurationSeconds: options.duration,
    }),
  );
  return out.Credentials!;
}

async function keyWithPolicy(policy: string): Promise<string> {
  const { KeyMetadata } = await admin.send(new CreateKeyCommand({ Policy: policy }));
  return KeyMetadata!.Arn!;
}

const generate = (client: KMSClient, keyArn: string) =>
  client.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256", EncryptionContext: tenantContext(TENANT) }));

beforeAll(async () => {
  devKms = await startTestDevKms("custody-dev-sts-", { clock: () => Date.now() + offsetMs });
  admin = new KMSClient(devKmsClientConfig(devKms.kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
});

afterAll(async () => {
  admin?.destroy();
  for (const client of clients) client.destroy();
  await devKms?.stop();
});

describe("STS on the development KMS, through @aws-sdk/client-sts", () => {
  it("assumes Custody's role with the external id; the session is the role in the vendor's account", async () => {
    const runner = await sts(DEV_KMS_VENDOR_RUNNER).send(new GetCallerIdentityCommand({}));
    expect(runner).toMatchObject({ Arn: DEV_KMS_VENDOR_RUNNER.arn, Account: "999988887777" });
    const credentials = await assume();
    expect(credentials.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(credentials.SessionToken).toBeTruthy();
    expect(credentials.Expiration!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    const session = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(session).toMatchObject({ Arn: SESSION_ARN, Account: "999988887777", UserId: expect.stringMatching(/^AROA[A-Z2-7]+:custody$/) });
  });

  it("refuses a wrong or missing external id, an untrusted caller and a role that does not exist, all as AccessDenied", async () => {
    const refused = (caller: string, role: string = DEV_KMS_VENDOR.arn) => ({
      name: "AccessDenied",
      message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${role}`,
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
    });
    await expect(assume({ externalId: "someone-elses-external-id" })).rejects.toMatchObject(refused(DEV_KMS_VENDOR_RUNNER.arn));
    await expect(assume({ externalId: undefined })).rejects.toMatchObject(refused(DEV_KMS_VENDOR_RUNNER.arn));
    // The customer's administrator may do anything in KMS, but the vendor's role does not trust them.
    await expect(assume({ as: DEV_KMS_CUSTOMER_ADMIN })).rejects.toMatchObject(refused(DEV_KMS_CUSTOMER_ADMIN.arn));
    const missing = "arn:aws:iam::999988887777:role/no-such-role";
    await expect(assume({ roleArn: missing })).rejects.toMatchObject(refused(DEV_KMS_VENDOR_RUNNER.arn, missing));
    await expect(assume({ duration: 7200 })).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("a session is evaluated as the role: key policies and grants naming the role ARN admit it, aws:PrincipalArn is the role", async () => {
    const session = kmsAs(await assume());
    const admitting = await keyWithPolicy(keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId: TENANT, tenantSlug: "acme" }] }));
    expect((await generate(session, admitting)).Plaintext).toHaveLength(32);

    const root = { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" };
    const byPrincipalArn = await keyWithPolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [root, { Effect: "Allow", Principal: "*", Action: "kms:DescribeKey", Resource: "*", Condition: { ArnEquals: { "aws:PrincipalArn": DEV_KMS_VENDOR.arn } } }],
      }),
    );
    expect((await session.send(new DescribeKeyCommand({ KeyId: byPrincipalArn }))).KeyMetadata?.Arn).toBe(byPrincipalArn);

    const onlyRoot = await keyWithPolicy(JSON.stringify({ Version: "2012-10-17", Statement: [root] }));
    await expect(session.send(new DescribeKeyCommand({ KeyId: onlyRoot }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: ${SESSION_ARN} is not authorized to perform: kms:DescribeKey on resource: ${onlyRoot} because no resource-based policy allows the kms:DescribeKey action`,
    });
    await admin.send(new CreateGrantCommand({ KeyId: onlyRoot, GranteePrincipal: DEV_KMS_VENDOR.arn, Operations: ["DescribeKey"] }));
    expect((await session.send(new DescribeKeyCommand({ KeyId: onlyRoot }))).KeyMetadata?.Arn).toBe(onlyRoot);
  });

  it("refuses a session once it has expired, and a token that is not the session's", async () => {
    const credentials = await assume({ duration: 900 });
    const session = kmsAs(credentials);
    const keyArn = await keyWithPolicy(keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId: TENANT, tenantSlug: "acme" }] }));
    expect((await generate(session, keyArn)).Plaintext).toHaveLength(32);

    const other = await assume();
    await expect(generate(kmsAs(credentials, other.SessionToken), keyArn)).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    const forged = `${credentials.SessionToken!.slice(0, -4)}AAAA`;
    await expect(generate(kmsAs(credentials, forged), keyArn)).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    await expect(generate(kmsAs(credentials, ""), keyArn)).rejects.toMatchObject({ name: "UnrecognizedClientException" });

    offsetMs = 901_000;
    try {
      await expect(generate(session, keyArn)).rejects.toMatchObject({
        name: "ExpiredTokenException",
        message: "The security token included in the request is expired",
      });
      await expect(sts(credentials).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "ExpiredToken" });
    } finally {
      offsetMs = 0;
    }
  });
});

describe("Custody's AWS provider on an assumed role (fromTemporaryCredentials)", () => {
  const admitting = () =>
    keyWithPolicy(keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants: [{ tenantId: TENANT, tenantSlug: "acme" }] }));

  it("works on the role: the base keys alone are refused by the key, the assumed role is admitted", async () => {
    const keyArn = await admitting();
    const onRole = vendorKmsSettings(devKms.kms.endpoint).provider;
    expect((await onRole.generateDataKey(keyArn, tenantContext(TENANT))).plaintext).toHaveLength(32);
    // Without the role (the runner's own keys) the customer's key policy, naming the role, says no.
    const withoutRole = vendorKmsSettings(devKms.kms.endpoint, { credentials: { roleArn: undefined } }).provider;
    await expect(withoutRole.generateDataKey(keyArn, tenantContext(TENANT))).rejects.toMatchObject({ kind: "access_denied" });
  });

  it("names a wrong external id a vendor-side credentials problem, in plain words, STS's text kept out", async () => {
    const keyArn = await admitting();
    const wrong = vendorKmsSettings(devKms.kms.endpoint, { credentials: { externalId: "not-the-external-id" } }).provider;
    const error = await wrong.describeKey(keyArn).catch((e: unknown) => e);
    expect(isKmsError(error)).toBe(true);
    expect(error).toMatchObject({ kind: "credentials", operation: "DescribeKey", providerCode: "AssumeRoleError" });
    expect((error as Error).message).toMatch(/^The vendor's AWS credentials were not accepted \(by KMS, or by STS when Custody assumes its role\)/);
    expect((error as Error).message).not.toMatch(/not authorized|arn:|not-the-external-id/);
  });
});
