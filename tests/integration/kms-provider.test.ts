import { randomUUID } from "node:crypto";
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ListGrantsCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  type CreateGrantCommandInput,
  type GrantOperation,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  DEV_KMS_ACCOUNT_ID,
  DEV_KMS_CUSTOMER_ADMIN,
  DEV_KMS_REGION,
  DEV_KMS_VENDOR,
  DEV_KMS_VENDOR_RUNNER,
  devKmsClientConfig,
  devKmsVendorCredentialSettings,
} from "@/lib/dev/kms/defaults";
import { tenantContext } from "@/lib/kms/providers/aws/encryption-context";
import { grantInstructions } from "@/lib/kms/providers/aws/instructions";
import { awsCredentials } from "@/lib/kms/providers/aws/credentials";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG, type AwsKmsConfig } from "@/lib/kms/providers/aws/client";
import { KmsError, type KmsErrorKind, type KmsOperation } from "@/lib/kms/errors";
import type { AwsKmsApi } from "@/lib/kms/providers/aws/types";
import { startTestDevKms, type TestDevKms } from "../helpers/dev-kms";
import { closedPort } from "../helpers/net";

// Custody's AWS KMS provider (lib/kms/providers/aws/client.ts, on the real @aws-sdk/client-kms) driven
// as the vendor against the development KMS: only the endpoint differs from production. The
// customer's admin sets keys, policies and grants up with a plain KMSClient, the way a
// customer follows Custody's grant instructions in their own account. Every failure must come
// back as a KmsError of the right kind, with the plain-language message and the provider's
// error name, never the provider's text.

type Tenant = { tenantId: string; slug: string };
const ACME: Tenant = { tenantId: randomUUID(), slug: "acme" };
const GLOBEX: Tenant = { tenantId: randomUUID(), slug: "globex" };
const ACME_CONTEXT = tenantContext(ACME.tenantId);
const GLOBEX_CONTEXT = tenantContext(GLOBEX.tenantId);

const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:root` },
  Action: "kms:*",
  Resource: "*",
};

let devKms: TestDevKms;
/** The customer's administrator (IAM allows all of KMS): creates and governs keys. */
let admin: KMSClient;
/** Custody, on its role in the vendor's account (assumed from the vendor's base keys), with the default settings. */
let vendor: AwsKmsApi;

function vendorProvider(endpoint: string, overrides: Partial<AwsKmsConfig> = {}): AwsKmsApi {
  const credentials = awsCredentials(devKmsVendorCredentialSettings(endpoint));
  return createAwsKmsApi({ ...DEFAULT_AWS_KMS_CONFIG, partition: "aws", endpoint, credentials, ...overrides });
}

/** The statements Custody shows the customer for one tenant, parsed as the customer would paste them. */
function custodyStatements(tenant: Tenant): object[] {
  const { policyStatements } = grantInstructions({
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    keyArn: `arn:aws:kms:${DEV_KMS_REGION}:${DEV_KMS_ACCOUNT_ID}:key/unused-in-policy`,
    region: DEV_KMS_REGION,
    tenantId: tenant.tenantId,
    tenantSlug: tenant.slug,
  });
  return JSON.parse(policyStatements) as object[];
}

/** A customer key: the account-root statement plus Custody's statements for `tenants` (none: root only). */
async function customerKey(tenants: Tenant[] = [], options: { multiRegion?: boolean } = {}): Promise<string> {
  const policy = { Version: "2012-10-17", Statement: [ROOT_STATEMENT, ...tenants.flatMap(custodyStatements)] };
  const { KeyMetadata } = await admin.send(
    new CreateKeyCommand({ Description: "customer key", Policy: JSON.stringify(policy), MultiRegion: options.multiRegion }),
  );
  if (!KeyMetadata?.Arn) throw new Error("CreateKey returned no ARN");
  return KeyMetadata.Arn;
}

/** Splits one shell command line as sh would for the quoting shellQuote produces ('…' and \'). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === " ") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unterminated quote in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === "\\") {
      word = (word ?? "") + (line[++i] ?? "");
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The `aws kms create-grant` command(s) Custody shows for a tenant, as CreateGrant inputs (one grant). */
function custodyGrants(keyArn: string, tenant: Tenant): CreateGrantCommandInput[] {
  const { createGrantCommands } = grantInstructions({
    vendorPrincipalArn: DEV_KMS_VENDOR.arn,
    keyArn,
    region: DEV_KMS_REGION,
    tenantId: tenant.tenantId,
    tenantSlug: tenant.slug,
  });
  return createGrantCommands.split("\n").map((line) => {
    const words = shellWords(line);
    expect(words.slice(0, 3)).toEqual(["aws", "kms", "create-grant"]);
    const options = new Map<string, string[]>();
    let values: string[] | undefined;
    for (const word of words.slice(3)) {
      if (word.startsWith("--")) options.set(word.slice(2), (values = []));
      else values!.push(word);
    }
    const one = (name: string) => options.get(name)?.[0];
    expect(one("region")).toBe(DEV_KMS_REGION);
    const constraints = one("constraints");
    return {
      KeyId: one("key-id"),
      GranteePrincipal: one("grantee-principal"),
      RetiringPrincipal: one("retiring-principal"),
      Operations: options.get("operations") as GrantOperation[],
      Constraints: constraints === undefined ? undefined : (JSON.parse(constraints) as CreateGrantCommandInput["Constraints"]),
      Name: one("name"),
    };
  });
}

async function createGrantAsCustomer(input: CreateGrantCommandInput): Promise<string> {
  const { GrantId } = await admin.send(new CreateGrantCommand(input));
  if (!GrantId) throw new Error("CreateGrant returned no grant id");
  return GrantId;
}

async function grantIdsOn(keyArn: string): Promise<string[]> {
  const { Grants } = await admin.send(new ListGrantsCommand({ KeyId: keyArn }));
  return (Grants ?? []).map((g) => g.GrantId ?? "");
}

// A fragment of each kind's plain-language message: what is wrong, said for people.
const PLAIN_LANGUAGE: Record<KmsErrorKind, RegExp> = {
  access_denied: /^Your key policy \(or grant\) does not allow Custody's AWS principal to call kms:\w+ for this tenant\. .*key-policy statements \(or create the grant\)/,
  access_denied_explicit: /^A Deny statement on your side/,
  access_denied_vendor: /^The vendor's own AWS role lacks an IAM policy for kms:\w+\. This is on the vendor, not on your key/,
  grant_not_found: /^KMS has no such grant on this key/,
  quota: /^An AWS KMS quota was reached/,
  bad_response: /^Something between Custody and KMS/,
  credentials: /^The vendor's AWS credentials were not accepted \(by KMS, or by STS when Custody assumes its role\)\./,
  key_disabled: /^The key is disabled in KMS\. Enable it/,
  invalid_state: /^The key cannot be used in its current state/,
  not_found: /^KMS has no such key/,
  invalid_ciphertext: /^KMS could not decrypt/,
  incorrect_key: /^The wrapped key was made with a different KMS key/,
  throttled: /^KMS is throttling requests/,
  unreachable: /^Custody could not reach KMS/,
  invalid_request: /^KMS refused the \w+ request as invalid\.$/,
};

/**
 * Awaits a call that must fail, and checks the KmsError: kind, operation, provider code, the
 * plain-language message, and that nothing of the provider's error leaks into it (no AWS
 * message, no ARN or principal, no account or tenant id, no stack, no attached SDK error).
 */
async function expectKmsError(
  call: Promise<unknown>,
  expected: { kind: KmsErrorKind; operation: KmsOperation; providerCode: string },
  mustNotMention: string[] = [],
): Promise<KmsError> {
  const outcome = await call.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  );
  expect(outcome, `expected ${expected.operation} to fail with ${expected.kind}`).toHaveProperty("rejected");
  const error = (outcome as { rejected: unknown }).rejected;
  expect(error).toBeInstanceOf(KmsError);
  const kmsError = error as KmsError;
  expect({ kind: kmsError.kind, operation: kmsError.operation, providerCode: kmsError.providerCode }).toEqual(expected);
  expect(kmsError.name).toBe("KmsError");
  expect(kmsError.message).toMatch(PLAIN_LANGUAGE[expected.kind]);
  const leaks = [
    "arn:",
    "User:",
    "not authorized",
    "Exception",
    "@smithy",
    "ECONN",
    "ETIMEDOUT",
    DEV_KMS_ACCOUNT_ID,
    DEV_KMS_VENDOR_RUNNER.accessKeyId,
    ACME.tenantId,
    GLOBEX.tenantId,
    ...mustNotMention,
  ];
  for (const leak of leaks) expect(kmsError.message).not.toContain(leak);
  expect(kmsError.message).not.toMatch(/\n|\bat .+:\d+:\d+/);
  expect(kmsError).not.toHaveProperty("cause");
  expect(kmsError).not.toHaveProperty("$metadata");
  expect(JSON.stringify(kmsError)).not.toContain("arn:");
  return kmsError;
}

async function elapsedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

beforeAll(async () => {
  devKms = await startTestDevKms("custody-kms-provider-");
  admin = new KMSClient(devKmsClientConfig(devKms.kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  vendor = vendorProvider(devKms.kms.endpoint);
});

afterAll(async () => {
  admin?.destroy();
  await devKms?.stop();
});

describe("round trips with the tenant's encryption context", () => {
  it("generateDataKey → decrypt returns the same 32-byte plaintext", async () => {
    const keyArn = await customerKey([ACME]);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    expect(dataKey.plaintext).toBeInstanceOf(Buffer);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(dataKey.ciphertext.length).toBeGreaterThan(32);
    expect(dataKey.ciphertext.includes(dataKey.plaintext)).toBe(false);
    const plaintext = await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT);
    expect(plaintext.equals(dataKey.plaintext)).toBe(true);
    // A second data key is a different key.
    const another = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    expect(another.plaintext.equals(dataKey.plaintext)).toBe(false);
  });

  it("describeKey reports the key's fields, for a single-Region and an mrk- multi-Region key", async () => {
    const keyArn = await customerKey([ACME]);
    const keyId = keyArn.split("/").at(-1);
    expect(await vendor.describeKey(keyArn)).toEqual({
      arn: keyArn,
      keyId,
      state: "Enabled",
      enabled: true,
      keySpec: "SYMMETRIC_DEFAULT",
      keyUsage: "ENCRYPT_DECRYPT",
      multiRegion: false,
      deletionDate: null,
    });

    const mrkArn = await customerKey([ACME], { multiRegion: true });
    expect(mrkArn).toMatch(/:key\/mrk-[0-9a-f]{32}$/);
    expect(await vendor.describeKey(mrkArn)).toMatchObject({
      arn: mrkArn,
      state: "Enabled",
      enabled: true,
      keySpec: "SYMMETRIC_DEFAULT",
      keyUsage: "ENCRYPT_DECRYPT",
      multiRegion: true,
    });
    const dataKey = await vendor.generateDataKey(mrkArn, ACME_CONTEXT);
    expect((await vendor.decrypt(mrkArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);
  });
});

describe("each error class: kind, plain-language message, provider code", () => {
  it("access_denied: a key whose policy has no statement for the vendor", async () => {
    const keyArn = await customerKey();
    await expectKmsError(
      vendor.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    const error = await expectKmsError(
      vendor.describeKey(keyArn),
      { kind: "access_denied", operation: "DescribeKey", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    expect(error.message).toContain("kms:DescribeKey");
  });

  it("key_disabled: the customer disables the key", async () => {
    const keyArn = await customerKey([ACME]);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    await admin.send(new DisableKeyCommand({ KeyId: keyArn }));
    await expectKmsError(
      vendor.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "key_disabled", operation: "GenerateDataKey", providerCode: "DisabledException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT),
      { kind: "key_disabled", operation: "Decrypt", providerCode: "DisabledException" },
      [keyArn],
    );
    expect(await vendor.describeKey(keyArn)).toMatchObject({ state: "Disabled", enabled: false });
  });

  it("invalid_state: the key is scheduled for deletion", async () => {
    const keyArn = await customerKey([ACME]);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    const { DeletionDate } = await admin.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT),
      { kind: "invalid_state", operation: "Decrypt", providerCode: "KMSInvalidStateException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "invalid_state", operation: "GenerateDataKey", providerCode: "KMSInvalidStateException" },
      [keyArn],
    );
    const description = await vendor.describeKey(keyArn);
    expect(description).toMatchObject({ state: "PendingDeletion", enabled: false });
    expect(description.deletionDate?.getTime()).toBe(DeletionDate?.getTime());
  });

  it("not_found: a well-formed ARN of no key, and an existing key's ARN in another region", async () => {
    const missing = `arn:aws:kms:${DEV_KMS_REGION}:${DEV_KMS_ACCOUNT_ID}:key/${randomUUID()}`;
    await expectKmsError(
      vendor.describeKey(missing),
      { kind: "not_found", operation: "DescribeKey", providerCode: "NotFoundException" },
      [missing],
    );
    await expectKmsError(
      vendor.generateDataKey(missing, ACME_CONTEXT),
      { kind: "not_found", operation: "GenerateDataKey", providerCode: "NotFoundException" },
      [missing],
    );

    const keyArn = await customerKey([ACME]);
    const elsewhere = keyArn.replace(`:${DEV_KMS_REGION}:`, ":eu-west-1:");
    expect(elsewhere).not.toBe(keyArn);
    await expectKmsError(
      vendor.generateDataKey(elsewhere, ACME_CONTEXT),
      { kind: "not_found", operation: "GenerateDataKey", providerCode: "NotFoundException" },
      [keyArn, elsewhere],
    );
    await expectKmsError(
      vendor.describeKey(elsewhere),
      { kind: "not_found", operation: "DescribeKey", providerCode: "NotFoundException" },
      [keyArn, elsewhere],
    );
  });

  it("invalid_ciphertext: another tenant's context on a key both tenants may use, and a tampered blob", async () => {
    // One customer, two of its tenants on Custody, one key: the policy allows both contexts,
    // so only the context bound into the ciphertext stops Acme's data key opening as Globex's.
    const keyArn = await customerKey([ACME, GLOBEX]);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, GLOBEX_CONTEXT),
      { kind: "invalid_ciphertext", operation: "Decrypt", providerCode: "InvalidCiphertextException" },
      [keyArn],
    );

    const tampered = Buffer.from(dataKey.ciphertext);
    tampered[tampered.length - 1]! ^= 0x01;
    await expectKmsError(
      vendor.decrypt(keyArn, tampered, ACME_CONTEXT),
      { kind: "invalid_ciphertext", operation: "Decrypt", providerCode: "InvalidCiphertextException" },
      [keyArn],
    );
    // The original still opens: neither refusal changed anything.
    expect((await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);
  });

  it("incorrect_key: decrypt names another key than the one that wrapped the data key", async () => {
    const [keyArn, otherArn] = [await customerKey([ACME]), await customerKey([ACME])];
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    await expectKmsError(
      vendor.decrypt(otherArn, dataKey.ciphertext, ACME_CONTEXT),
      { kind: "incorrect_key", operation: "Decrypt", providerCode: "IncorrectKeyException" },
      [keyArn, otherArn],
    );
  });

  it("credentials: a wrong secret, and an access key id KMS does not know", async () => {
    const keyArn = await customerKey([ACME]);
    const wrongSecret = vendorProvider(devKms.kms.endpoint, {
      credentials: { accessKeyId: DEV_KMS_VENDOR_RUNNER.accessKeyId, secretAccessKey: "not-the-vendor-secret-at-all" },
    });
    await expectKmsError(
      wrongSecret.describeKey(keyArn),
      { kind: "credentials", operation: "DescribeKey", providerCode: "InvalidSignatureException" },
      [keyArn, "not-the-vendor-secret-at-all"],
    );
    const stranger = vendorProvider(devKms.kms.endpoint, {
      credentials: { accessKeyId: "AKIAUNKNOWNSTRANGER0", secretAccessKey: "some-stranger-secret-value" },
    });
    await expectKmsError(
      stranger.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "credentials", operation: "GenerateDataKey", providerCode: "UnrecognizedClientException" },
      [keyArn, "AKIAUNKNOWNSTRANGER0"],
    );
  });

  it("credentials: no credentials anywhere in the SDK's default chain", async () => {
    const keyArn = await customerKey([ACME]);
    for (const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", `${devKms.dataDir}/no-such-credentials`);
    vi.stubEnv("AWS_CONFIG_FILE", `${devKms.dataDir}/no-such-config`);
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    try {
      const unconfigured = vendorProvider(devKms.kms.endpoint, { credentials: undefined, maxAttempts: 1 });
      await expectKmsError(
        unconfigured.describeKey(keyArn),
        { kind: "credentials", operation: "DescribeKey", providerCode: "CredentialsProviderError" },
        [keyArn],
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("throttled: throttled on more attempts than maxAttempts allows, after exactly maxAttempts tries", async () => {
    const keyArn = await customerKey([ACME]);
    const twice = vendorProvider(devKms.kms.endpoint, { maxAttempts: 2 });
    const once = vendorProvider(devKms.kms.endpoint, { maxAttempts: 1 });
    const random = vi.spyOn(Math, "random").mockReturnValue(0); // no jitter: retry without waiting
    try {
      devKms.kms.faults.throttleNext(3, "GenerateDataKey");
      await expectKmsError(
        twice.generateDataKey(keyArn, ACME_CONTEXT),
        { kind: "throttled", operation: "GenerateDataKey", providerCode: "ThrottlingException" },
        [keyArn],
      );
      // Two of the three throttles were used up, so one is left for the next request.
      await expectKmsError(
        once.generateDataKey(keyArn, ACME_CONTEXT),
        { kind: "throttled", operation: "GenerateDataKey", providerCode: "ThrottlingException" },
        [keyArn],
      );
      expect((await once.generateDataKey(keyArn, ACME_CONTEXT)).plaintext).toHaveLength(32);
    } finally {
      random.mockRestore();
      devKms.kms.faults.reset();
    }
  });

  it("throttled once with maxAttempts ≥ 2: retried transparently after a backoff, and succeeds", async () => {
    const keyArn = await customerKey([ACME]);
    const provider = vendorProvider(devKms.kms.endpoint, { maxAttempts: 2 });
    await provider.generateDataKey(keyArn, ACME_CONTEXT); // client made, connection open
    const baseline = Math.min(
      await elapsedMs(() => provider.generateDataKey(keyArn, ACME_CONTEXT)),
      await elapsedMs(() => provider.generateDataKey(keyArn, ACME_CONTEXT)),
    );
    // The SDK's backoff is random × base (full jitter); fixing the random draw makes the wait
    // half the throttling base delay, so it can be told from the cost of the second attempt.
    const random = vi.spyOn(Math, "random").mockReturnValue(0.5);
    let dataKey: Awaited<ReturnType<AwsKmsApi["generateDataKey"]>> | undefined;
    let elapsed: number;
    try {
      devKms.kms.faults.throttleNext(1, "GenerateDataKey");
      elapsed = await elapsedMs(async () => {
        dataKey = await provider.generateDataKey(keyArn, ACME_CONTEXT);
      });
    } finally {
      random.mockRestore();
      devKms.kms.faults.reset();
    }
    expect(dataKey?.plaintext).toHaveLength(32);
    expect((await provider.decrypt(keyArn, dataKey!.ciphertext, ACME_CONTEXT)).equals(dataKey!.plaintext)).toBe(true);
    // It backed off: well beyond one more round trip (a few ms) on top of the baseline.
    expect(elapsed - baseline).toBeGreaterThan(100);
  });

  it("unreachable: an endpoint on a closed port", async () => {
    const keyArn = await customerKey([ACME]);
    const nowhere = vendorProvider(`http://127.0.0.1:${await closedPort()}`, { maxAttempts: 1, connectTimeoutMs: 1_000 });
    await expectKmsError(
      nowhere.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "unreachable", operation: "GenerateDataKey", providerCode: "ECONNREFUSED" },
      [keyArn],
    );
  });

  it("unreachable: a request slower than requestTimeoutMs", async () => {
    const keyArn = await customerKey([ACME]);
    const impatient = vendorProvider(devKms.kms.endpoint, { maxAttempts: 1, requestTimeoutMs: 300 });
    await impatient.describeKey(keyArn); // client made, connection open
    // The answer is held back far longer than the timeout: a TimeoutError (rather than the key,
    // after 30 s) shows the client gave up; no elapsed-time bound, which a busy machine breaks.
    devKms.kms.faults.delayNext(30_000);
    await expectKmsError(
      impatient.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "unreachable", operation: "GenerateDataKey", providerCode: "TimeoutError" },
      [keyArn],
    );
  });

  it("invalid_request: a malformed ARN string passed directly, refused before any request is sent", async () => {
    // The endpoint is a closed port: if a request were sent, this would be `unreachable`.
    const offline = vendorProvider(`http://127.0.0.1:${await closedPort()}`, { maxAttempts: 1 });
    const keyArn = await customerKey([ACME]);
    const malformed = [
      "not-an-arn",
      keyArn.replace(":kms:", ":s3:"),
      keyArn.replace(/key\/.*/, "alias/acme"),
      keyArn.replace("arn:aws:", "arn:aws-cn:"),
      keyArn.replace(`:${DEV_KMS_ACCOUNT_ID}:`, ":1234:"),
    ];
    for (const arn of malformed) {
      await expectKmsError(
        offline.generateDataKey(arn, ACME_CONTEXT),
        { kind: "invalid_request", operation: "GenerateDataKey", providerCode: "InvalidArn" },
        [keyArn, arn],
      );
    }
    await expectKmsError(vendor.describeKey("not-an-arn"), { kind: "invalid_request", operation: "DescribeKey", providerCode: "InvalidArn" });
    await expectKmsError(vendor.decrypt("", Buffer.alloc(16), ACME_CONTEXT), {
      kind: "invalid_request",
      operation: "Decrypt",
      providerCode: "InvalidArn",
    });
  });
});

describe("policy scoping as a customer sets it from the grant instructions", () => {
  it("lets the vendor use Acme's key with Acme's context and refuses Globex's: one principal, one tenant per key", async () => {
    const acmeKey = await customerKey([ACME]);
    expect(await vendor.describeKey(acmeKey)).toMatchObject({ arn: acmeKey, state: "Enabled" });
    const dataKey = await vendor.generateDataKey(acmeKey, ACME_CONTEXT);
    expect((await vendor.decrypt(acmeKey, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);

    await expectKmsError(
      vendor.generateDataKey(acmeKey, GLOBEX_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [acmeKey],
    );
    await expectKmsError(
      vendor.decrypt(acmeKey, dataKey.ciphertext, GLOBEX_CONTEXT),
      { kind: "access_denied", operation: "Decrypt", providerCode: "AccessDeniedException" },
      [acmeKey],
    );
    // No context at all is not Acme's either.
    await expectKmsError(vendor.generateDataKey(acmeKey, {}), {
      kind: "access_denied",
      operation: "GenerateDataKey",
      providerCode: "AccessDeniedException",
    });
    const globexKey = await customerKey([GLOBEX]);
    await expectKmsError(
      vendor.generateDataKey(globexKey, ACME_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [acmeKey, globexKey],
    );
  });

  it("maps the vendor's listGrants, createGrant and revokeGrant to access_denied: the statements grant none of them", async () => {
    const keyArn = await customerKey([ACME]);
    const [cryptoGrant] = custodyGrants(keyArn, ACME);
    const grantId = await createGrantAsCustomer(cryptoGrant!);

    await expectKmsError(
      vendor.listGrants(keyArn),
      { kind: "access_denied", operation: "ListGrants", providerCode: "AccessDeniedException" },
      [keyArn, grantId],
    );
    await expectKmsError(
      vendor.createGrant(keyArn, {
        granteePrincipal: DEV_KMS_VENDOR.arn,
        operations: ["Decrypt", "GenerateDataKey"],
        encryptionContextSubset: GLOBEX_CONTEXT,
        name: "custody-globex",
      }),
      { kind: "access_denied", operation: "CreateGrant", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.revokeGrant(keyArn, grantId),
      { kind: "access_denied", operation: "RevokeGrant", providerCode: "AccessDeniedException" },
      [keyArn, grantId],
    );
    expect(await grantIdsOn(keyArn)).toEqual([grantId]);
  });
});

describe("grants made from the grant instructions instead of policy statements", () => {
  it("allow Acme's context only (one grant, DescribeKey included), and stop at once when the vendor retires the grant", async () => {
    const keyArn = await customerKey(); // root statement only: the vendor gets in through the grant
    const grants = custodyGrants(keyArn, ACME);
    expect(grants).toHaveLength(1);
    const [grant] = grants;
    expect(grant).toMatchObject({
      KeyId: keyArn,
      GranteePrincipal: DEV_KMS_VENDOR.arn,
      RetiringPrincipal: DEV_KMS_VENDOR.arn,
      Operations: ["DescribeKey", "GenerateDataKey", "Decrypt", "Encrypt"],
      Constraints: { EncryptionContextSubset: ACME_CONTEXT },
    });

    await expectKmsError(
      vendor.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    const grantId = await createGrantAsCustomer(grant!);

    // The constraint does not apply to DescribeKey (no context), as in AWS.
    expect(await vendor.describeKey(keyArn)).toMatchObject({ arn: keyArn, state: "Enabled" });
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    expect((await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);

    await expectKmsError(
      vendor.generateDataKey(keyArn, GLOBEX_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, GLOBEX_CONTEXT),
      { kind: "access_denied", operation: "Decrypt", providerCode: "AccessDeniedException" },
      [keyArn],
    );

    await vendor.retireGrant(keyArn, grantId);
    // Retiring the one grant ends everything, DescribeKey included.
    await expectKmsError(vendor.describeKey(keyArn), { kind: "access_denied", operation: "DescribeKey", providerCode: "AccessDeniedException" }, [keyArn]);
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT),
      { kind: "access_denied", operation: "Decrypt", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    expect(await grantIdsOn(keyArn)).toEqual([]);
    // Retiring it twice: the grant is gone.
    await expectKmsError(
      vendor.retireGrant(keyArn, grantId),
      { kind: "grant_not_found", operation: "RetireGrant", providerCode: "NotFoundException" },
      [keyArn, grantId],
    );
  });

  it("stop at once when the customer revokes the grant", async () => {
    const keyArn = await customerKey();
    const [cryptoGrant] = custodyGrants(keyArn, ACME);
    const grantId = await createGrantAsCustomer(cryptoGrant!);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    expect((await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);

    await admin.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grantId }));
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT),
      { kind: "access_denied", operation: "Decrypt", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.generateDataKey(keyArn, ACME_CONTEXT),
      { kind: "access_denied", operation: "GenerateDataKey", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    expect(await grantIdsOn(keyArn)).toEqual([]);

    // A fresh grant lets the data key wrapped before the revocation open again.
    const fresh = await createGrantAsCustomer(cryptoGrant!);
    expect(fresh).not.toBe(grantId);
    expect((await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);
  });

  it("maps the vendor's listGrants, createGrant and revokeGrant to access_denied on a grant-only key too", async () => {
    const keyArn = await customerKey();
    const [cryptoGrant] = custodyGrants(keyArn, ACME);
    const grantId = await createGrantAsCustomer(cryptoGrant!);
    await expectKmsError(vendor.listGrants(keyArn), { kind: "access_denied", operation: "ListGrants", providerCode: "AccessDeniedException" }, [
      keyArn,
    ]);
    await expectKmsError(
      vendor.createGrant(keyArn, { granteePrincipal: DEV_KMS_VENDOR.arn, operations: ["Decrypt"], encryptionContextSubset: GLOBEX_CONTEXT }),
      { kind: "access_denied", operation: "CreateGrant", providerCode: "AccessDeniedException" },
      [keyArn],
    );
    await expectKmsError(
      vendor.revokeGrant(keyArn, grantId),
      { kind: "access_denied", operation: "RevokeGrant", providerCode: "AccessDeniedException" },
      [keyArn, grantId],
    );
    expect(await grantIdsOn(keyArn)).toEqual([grantId]);
  });
});

// Last: it restarts the file's dev KMS.
describe("persistence across a restart of the development KMS", () => {
  it("a tenant key wrapped before still decrypts, and a key disabled before is still disabled", async () => {
    const keyArn = await customerKey([ACME]);
    const disabledArn = await customerKey([ACME]);
    const dataKey = await vendor.generateDataKey(keyArn, ACME_CONTEXT);
    await admin.send(new DisableKeyCommand({ KeyId: disabledArn }));

    admin.destroy();
    const kms = await devKms.restart();
    admin = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
    vendor = vendorProvider(kms.endpoint);

    expect((await vendor.decrypt(keyArn, dataKey.ciphertext, ACME_CONTEXT)).equals(dataKey.plaintext)).toBe(true);
    expect(await vendor.describeKey(disabledArn)).toMatchObject({ arn: disabledArn, state: "Disabled", enabled: false });
    await expectKmsError(
      vendor.generateDataKey(disabledArn, ACME_CONTEXT),
      { kind: "key_disabled", operation: "GenerateDataKey", providerCode: "DisabledException" },
      [disabledArn],
    );
    // The policy came through as well: Globex is still refused on Acme's key.
    await expectKmsError(
      vendor.decrypt(keyArn, dataKey.ciphertext, GLOBEX_CONTEXT),
      { kind: "access_denied", operation: "Decrypt", providerCode: "AccessDeniedException" },
      [keyArn],
    );
  });
});
