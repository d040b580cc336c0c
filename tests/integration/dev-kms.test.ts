import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  type GrantOperation,
  type KeyMetadata,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEV_KMS_ACCOUNT_ID,
  DEV_KMS_CUSTOMER_ADMIN,
  DEV_KMS_PRINCIPALS,
  DEV_KMS_REGION,
  devKmsClientConfig,
  type DevKmsCredentials,
} from "@/lib/dev/kms/defaults";
import { startDevKms, type DevKms } from "@/lib/dev/kms/server";

// The development KMS driven over HTTP by the real AWS SDK v3 (@aws-sdk/client-kms), as
// Custody's AWS provider will drive AWS KMS: only the endpoint differs. The customer admin
// (IAM allows all of KMS) creates and governs keys; "vendor" here is a service role in the
// customer's own account whose IAM allows nothing, so these tests see the key-policy and
// grant rules alone. The cross-account rules (Custody's real topology) are in
// dev-kms-cross-account.test.ts.

const ACCOUNT = DEV_KMS_ACCOUNT_ID;
/** A role in the key's own account with no IAM policy (see above). */
const SERVICE: DevKmsCredentials = {
  accessKeyId: "AKIADEVSAMEACCOUNTSVC",
  secretAccessKey: "dev-same-account-service-secret",
  arn: `arn:aws:iam::${ACCOUNT}:role/custody-vendor`,
};
const PRINCIPALS = {
  ...DEV_KMS_PRINCIPALS,
  [SERVICE.accessKeyId]: { secretAccessKey: SERVICE.secretAccessKey, arn: SERVICE.arn },
};
const ROOT_STATEMENT = {
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: "kms:*",
  Resource: "*",
};

function policyWith(...statements: object[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [ROOT_STATEMENT, ...statements] });
}

function clientFor(kms: DevKms, principal: DevKmsCredentials, extra: { region?: string; maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({ ...devKmsClientConfig(kms.endpoint, principal), ...extra });
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "custody-dev-kms-"));
  tempDirs.push(dir);
  return dir;
}

function start(dataDir: string, masterKey?: Buffer): Promise<DevKms> {
  return startDevKms({ port: 0, dataDir, accountId: ACCOUNT, principals: PRINCIPALS, masterKey });
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));

let kms: DevKms;
let admin: KMSClient;
let vendor: KMSClient;

async function createKey(options: { policy?: string; multiRegion?: boolean } = {}): Promise<KeyMetadata> {
  const { KeyMetadata: key } = await admin.send(
    new CreateKeyCommand({ Description: "dev KMS test key", Policy: options.policy, MultiRegion: options.multiRegion }),
  );
  if (!key?.KeyId || !key.Arn) throw new Error("CreateKey returned no key");
  return key;
}

beforeAll(async () => {
  kms = await start(tempDir());
  admin = clientFor(kms, DEV_KMS_CUSTOMER_ADMIN);
  vendor = clientFor(kms, SERVICE);
});

afterAll(async () => {
  admin?.destroy();
  vendor?.destroy();
  await kms?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("keys and metadata", () => {
  it("creates a symmetric key with AWS-shaped metadata and the default key policy", async () => {
    const key = await createKey();
    expect(key).toMatchObject({
      AWSAccountId: ACCOUNT,
      Arn: `arn:aws:kms:${DEV_KMS_REGION}:${ACCOUNT}:key/${key.KeyId}`,
      Enabled: true,
      KeyState: "Enabled",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeySpec: "SYMMETRIC_DEFAULT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      MultiRegion: false,
    });
    expect(key.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(key.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);

    const { Policy, PolicyName } = await admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    expect(PolicyName).toBe("default");
    expect(JSON.parse(Policy ?? "")).toMatchObject({ Statement: [ROOT_STATEMENT] });

    const listed = await admin.send(new ListKeysCommand({}));
    expect(listed.Keys).toContainEqual({ KeyId: key.KeyId, KeyArn: key.Arn });
  });

  it("makes mrk- key ids for multi-Region keys", async () => {
    const key = await createKey({ multiRegion: true });
    expect(key.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(key.MultiRegion).toBe(true);
    expect(key.MultiRegionConfiguration).toMatchObject({ MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: key.Arn, Region: DEV_KMS_REGION } });
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: bytes("mrk") }));
    const { Plaintext, KeyId } = await admin.send(new DecryptCommand({ CiphertextBlob }));
    expect(Buffer.from(Plaintext!).toString()).toBe("mrk");
    expect(KeyId).toBe(key.Arn);
  });

  it("finds keys by id, ARN, alias name and alias ARN; refuses a taken alias", async () => {
    const key = await createKey();
    const aliasName = `alias/tenant-${randomBytes(4).toString("hex")}`;
    await admin.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
    const aliasArn = `arn:aws:kms:${DEV_KMS_REGION}:${ACCOUNT}:${aliasName}`;
    for (const ref of [key.KeyId, key.Arn, aliasName, aliasArn]) {
      const { KeyMetadata } = await admin.send(new DescribeKeyCommand({ KeyId: ref }));
      expect(KeyMetadata?.KeyId).toBe(key.KeyId);
    }
    const { CiphertextBlob, KeyId } = await admin.send(new EncryptCommand({ KeyId: aliasName, Plaintext: bytes("via alias") }));
    expect(KeyId).toBe(key.Arn);
    expect(CiphertextBlob).toBeDefined();

    const { Aliases } = await admin.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    expect(Aliases).toEqual([expect.objectContaining({ AliasName: aliasName, AliasArn: aliasArn, TargetKeyId: key.KeyId })]);

    await expect(admin.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }))).rejects.toMatchObject({
      name: "AlreadyExistsException",
    });
    await expect(admin.send(new CreateAliasCommand({ AliasName: "no-prefix", TargetKeyId: key.KeyId }))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("answers NotFound for unknown keys and for ARNs of another region or account", async () => {
    const key = await createKey();
    const refs = [
      "11111111-2222-3333-4444-555555555555",
      "alias/does-not-exist",
      key.Arn!.replace(DEV_KMS_REGION, "eu-west-1"),
      key.Arn!.replace(ACCOUNT, "999988887777"),
      "not a key id",
    ];
    for (const ref of refs) {
      await expect(admin.send(new DescribeKeyCommand({ KeyId: ref }))).rejects.toMatchObject({ name: "NotFoundException" });
    }
    // Keys are regional: a client signing for another region does not see it either.
    const elsewhere = clientFor(kms, DEV_KMS_CUSTOMER_ADMIN, { region: "eu-west-1" });
    await expect(elsewhere.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
    elsewhere.destroy();
  });
});

describe("encryption and the encryption context", () => {
  const context = { tenant_id: "t-1", purpose: "tenant-data-key" };

  it("round-trips GenerateDataKey → Decrypt and Encrypt → Decrypt with a context", async () => {
    const key = await createKey();
    const dataKey = await admin.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256", EncryptionContext: context }));
    expect(dataKey.Plaintext).toHaveLength(32);
    expect(dataKey.KeyId).toBe(key.Arn);
    const decrypted = await admin.send(
      new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { purpose: context.purpose, tenant_id: context.tenant_id } }),
    );
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(dataKey.Plaintext!))).toBe(true);
    expect(decrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });

    const encrypted = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("hello"), EncryptionContext: context }));
    const plain = await admin.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context, KeyId: key.Arn }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe("hello");

    const sized = await admin.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 64 }));
    expect(sized.Plaintext).toHaveLength(64);
    const aes128 = await admin.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_128" }));
    expect(aes128.Plaintext).toHaveLength(16);
    const withoutPlaintext = await admin.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: "AES_256", EncryptionContext: context }));
    expect(withoutPlaintext).not.toHaveProperty("Plaintext");
    const later = await admin.send(new DecryptCommand({ CiphertextBlob: withoutPlaintext.CiphertextBlob, EncryptionContext: context }));
    expect(later.Plaintext).toHaveLength(32);
  });

  it("refuses a wrong, missing or extra context, and tampered or foreign blobs, with InvalidCiphertextException", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("secret"), EncryptionContext: context }));
    const blob = Buffer.from(CiphertextBlob!);
    const attempts: Array<{ CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }> = [
      { CiphertextBlob: blob, EncryptionContext: { ...context, tenant_id: "t-2" } },
      { CiphertextBlob: blob },
      { CiphertextBlob: blob, EncryptionContext: { ...context, extra: "x" } },
      { CiphertextBlob: blob, EncryptionContext: { TENANT_ID: "t-1", purpose: context.purpose } },
      { CiphertextBlob: Buffer.concat([blob.subarray(0, -1), Buffer.of(blob.at(-1)! ^ 1)]), EncryptionContext: context },
      { CiphertextBlob: Buffer.concat([blob.subarray(0, 80), Buffer.of(blob[80]! ^ 0x80), blob.subarray(81)]), EncryptionContext: context },
      { CiphertextBlob: randomBytes(120) },
    ];
    for (const attempt of attempts) {
      await expect(admin.send(new DecryptCommand(attempt))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    }
  });

  it("answers IncorrectKeyException when Decrypt names another key", async () => {
    const [key, other] = [await createKey(), await createKey()];
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }));
    await expect(admin.send(new DecryptCommand({ CiphertextBlob, KeyId: other.KeyId }))).rejects.toMatchObject({ name: "IncorrectKeyException" });
  });

  it("re-encrypts under another key and context", async () => {
    const [source, destination] = [await createKey(), await createKey()];
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: bytes("move me"), EncryptionContext: context }));
    const moved = await admin.send(
      new ReEncryptCommand({
        CiphertextBlob,
        SourceEncryptionContext: context,
        DestinationKeyId: destination.KeyId,
        DestinationEncryptionContext: { tenant_id: "t-1", rotated: "yes" },
      }),
    );
    expect(moved).toMatchObject({ SourceKeyId: source.Arn, KeyId: destination.Arn });
    const { Plaintext, KeyId } = await admin.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { tenant_id: "t-1", rotated: "yes" } }),
    );
    expect(Buffer.from(Plaintext!).toString()).toBe("move me");
    expect(KeyId).toBe(destination.Arn);
    await expect(admin.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: context }))).rejects.toMatchObject({
      name: "InvalidCiphertextException",
    });
  });

  it("validates sizes and key specs like KMS", async () => {
    const key = await createKey();
    const invalid = [
      new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 0 }),
      new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 1025 }),
      new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_512" as "AES_256" }),
      new GenerateDataKeyCommand({ KeyId: key.KeyId }),
      new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256", NumberOfBytes: 32 }),
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: new Uint8Array(4097) }),
      new DecryptCommand({ CiphertextBlob: new Uint8Array(6145) }),
      new EncryptCommand({ Plaintext: bytes("no key") } as { KeyId: string; Plaintext: Uint8Array }),
    ];
    for (const command of invalid) {
      await expect(admin.send(command as GenerateDataKeyCommand)).rejects.toMatchObject({ name: "ValidationException" });
    }
  });
});

describe("key state", () => {
  it("refuses cryptographic operations on a disabled key and works again once re-enabled", async () => {
    const key = await createKey();
    await admin.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const { KeyMetadata } = await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(KeyMetadata).toMatchObject({ KeyState: "Disabled", Enabled: false });
    await expect(admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }))).rejects.toMatchObject({ name: "DisabledException" });
    await expect(admin.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }))).rejects.toMatchObject({ name: "DisabledException" });
    await admin.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }));
    expect(CiphertextBlob).toBeDefined();
  });

  it("schedules deletion within 7-30 days, blocks use while pending, and cancels back to Disabled", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }));
    await expect(admin.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 5 }))).rejects.toMatchObject({
      name: "ValidationException",
    });
    const scheduled = await admin.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: key.Arn, KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    const sevenDays = Date.now() + 7 * 24 * 3600 * 1000;
    expect(Math.abs(scheduled.DeletionDate!.getTime() - sevenDays)).toBeLessThan(60_000);

    await expect(admin.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    await expect(admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    await expect(admin.send(new EnableKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    await expect(admin.send(new DisableKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    await expect(admin.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
    });
    const { KeyMetadata: pending } = await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(pending).toMatchObject({ KeyState: "PendingDeletion", Enabled: false });
    expect(pending?.DeletionDate?.getTime()).toBe(scheduled.DeletionDate?.getTime());

    const cancelled = await admin.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    expect(cancelled.KeyId).toBe(key.Arn);
    const { KeyMetadata: after } = await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(after).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(after?.DeletionDate).toBeUndefined();
    await expect(admin.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
  });
});

describe("key policies", () => {
  it("denies the vendor when neither the key policy nor a grant allows it, naming principal, action and key", async () => {
    const key = await createKey();
    const refusal = vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-1" } }));
    await expect(refusal).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: ${SERVICE.arn} is not authorized to perform: kms:GenerateDataKey on resource: ${key.Arn} because no resource-based policy allows the kms:GenerateDataKey action`,
    });
    // The vendor's IAM allows nothing, so IAM-only actions are refused too.
    await expect(vendor.send(new CreateKeyCommand({}))).rejects.toMatchObject({ name: "AccessDeniedException" });
    await expect(vendor.send(new ListKeysCommand({}))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });

  it("allows the vendor only for the encryption context its statement's condition names", async () => {
    const key = await createKey({
      policy: policyWith({
        Sid: "Vendor uses the key for tenant t-1 only",
        Effect: "Allow",
        Principal: { AWS: SERVICE.arn },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:EncryptionContext:tenant_id": "t-1" } },
      }),
    });
    const dataKey = await vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-1" } }));
    const decrypted = await vendor.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-1" } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(dataKey.Plaintext!))).toBe(true);

    const otherContexts: Record<string, string>[] = [{ tenant_id: "t-2" }, {}, { other: "t-1" }];
    for (const context of otherContexts) {
      await expect(vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: context }))).rejects.toMatchObject({
        name: "AccessDeniedException",
      });
    }
    // Encrypt is not among the statement's actions.
    await expect(vendor.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: bytes("x"), EncryptionContext: { tenant_id: "t-1" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
  });

  it("lets an explicit Deny win over an Allow", async () => {
    const key = await createKey({
      policy: policyWith(
        { Sid: "Vendor", Effect: "Allow", Principal: { AWS: SERVICE.arn }, Action: "kms:*", Resource: "*" },
        {
          Sid: "Never for the blocked tenant",
          Effect: "Deny",
          Principal: "*",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: { "kms:EncryptionContext:tenant_id": "blocked" } },
        },
      ),
    });
    const blocked = await vendor.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: bytes("x"), EncryptionContext: { tenant_id: "blocked" } }));
    await expect(vendor.send(new DecryptCommand({ CiphertextBlob: blocked.CiphertextBlob, EncryptionContext: { tenant_id: "blocked" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("with an explicit deny in a resource-based policy"),
    });
    // The Deny names "*": the customer admin is refused as well.
    await expect(admin.send(new DecryptCommand({ CiphertextBlob: blocked.CiphertextBlob, EncryptionContext: { tenant_id: "blocked" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    const fine = await vendor.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: bytes("y"), EncryptionContext: { tenant_id: "ok" } }));
    const { Plaintext } = await vendor.send(new DecryptCommand({ CiphertextBlob: fine.CiphertextBlob, EncryptionContext: { tenant_id: "ok" } }));
    expect(Buffer.from(Plaintext!).toString()).toBe("y");
  });

  it("validates policies and refuses one that would lock the caller out", async () => {
    const key = await createKey();
    for (const Policy of ["not json", JSON.stringify({ Version: "2012-10-17" }), JSON.stringify({ Statement: [{ Effect: "Maybe" }] })]) {
      await expect(admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy }))).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
    }
    const vendorOnly = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: { AWS: SERVICE.arn }, Action: "kms:Decrypt", Resource: "*" }],
    });
    await expect(admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: vendorOnly }))).rejects.toMatchObject({
      name: "MalformedPolicyDocumentException",
    });
    const allowed = policyWith({ Effect: "Allow", Principal: { AWS: SERVICE.arn }, Action: "kms:Decrypt", Resource: "*" });
    await admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: allowed, PolicyName: "default" }));
    expect((await admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(allowed);
    await expect(vendor.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("grants", () => {
  const operations: GrantOperation[] = ["GenerateDataKey", "Decrypt"];

  it("allows the grantee what the grant lists, for contexts its constraint matches, until retired", async () => {
    const key = await createKey();
    const { GrantId, GrantToken } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: SERVICE.arn,
        RetiringPrincipal: SERVICE.arn,
        Operations: operations,
        Constraints: { EncryptionContextSubset: { tenant_id: "t-1" } },
        Name: "vendor-tenant-t-1",
      }),
    );
    expect(GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(GrantToken).toBeTruthy();

    const dataKey = await vendor.send(
      new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-1", purpose: "x" }, GrantTokens: [GrantToken!] }),
    );
    const decrypted = await vendor.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-1", purpose: "x" } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(dataKey.Plaintext!))).toBe(true);
    await expect(vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-2" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(vendor.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: bytes("x"), EncryptionContext: { tenant_id: "t-1" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(
      vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-1" }, GrantTokens: ["forged"] })),
    ).rejects.toMatchObject({ name: "InvalidGrantTokenException" });

    const { Grants } = await admin.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    expect(Grants).toEqual([
      expect.objectContaining({
        KeyId: key.Arn,
        GrantId,
        Name: "vendor-tenant-t-1",
        GranteePrincipal: SERVICE.arn,
        RetiringPrincipal: SERVICE.arn,
        IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
        Operations: operations,
        Constraints: { EncryptionContextSubset: { tenant_id: "t-1" } },
      }),
    ]);

    await vendor.send(new RetireGrantCommand({ GrantToken }));
    await expect(vendor.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-1", purpose: "x" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    expect((await admin.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
    await expect(vendor.send(new RetireGrantCommand({ GrantToken }))).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("stops working the moment the grant is revoked", async () => {
    const key = await createKey();
    const { GrantId } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.Arn,
        GranteePrincipal: SERVICE.arn,
        Operations: operations,
        Constraints: { EncryptionContextEquals: { tenant_id: "t-9" } },
      }),
    );
    const dataKey = await vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-9" } }));
    // EncryptionContextEquals: one pair more and the grant no longer matches.
    await expect(vendor.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-9", more: "x" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    // The vendor is neither the retiring principal nor granted RetireGrant.
    await expect(vendor.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId }))).rejects.toMatchObject({ name: "AccessDeniedException" });
    await expect(vendor.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId }))).rejects.toMatchObject({ name: "AccessDeniedException" });

    await admin.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId }));
    await expect(vendor.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-9" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(admin.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId }))).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("lets the key's account retire a grant by key and grant id", async () => {
    const key = await createKey();
    const { GrantId } = await admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: SERVICE.arn, Operations: ["Decrypt"] }));
    await expect(admin.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: "0".repeat(64) }))).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(admin.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: "not-a-grant-id" }))).rejects.toMatchObject({ name: "InvalidGrantIdException" });
    await admin.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId }));
    expect((await admin.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
  });

  it("refuses unknown grant operations and a grant from a principal without kms:CreateGrant", async () => {
    const key = await createKey();
    await expect(
      admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: SERVICE.arn, Operations: ["Frobnicate" as GrantOperation] })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      vendor.send(new CreateGrantCommand({ KeyId: key.Arn, GranteePrincipal: SERVICE.arn, Operations: ["Decrypt"] })),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("authentication", () => {
  it("answers InvalidSignatureException for a wrong secret and UnrecognizedClientException for an unknown key", async () => {
    const wrongSecret = new KMSClient({
      ...devKmsClientConfig(kms.endpoint, SERVICE),
      credentials: { accessKeyId: SERVICE.accessKeyId, secretAccessKey: "not-the-secret-at-all" },
    });
    await expect(wrongSecret.send(new ListKeysCommand({}))).rejects.toMatchObject({ name: "InvalidSignatureException" });
    wrongSecret.destroy();
    const stranger = new KMSClient({
      ...devKmsClientConfig(kms.endpoint, SERVICE),
      credentials: { accessKeyId: "AKIAUNKNOWNSTRANGER0", secretAccessKey: "whatever-secret-value" },
    });
    await expect(stranger.send(new ListKeysCommand({}))).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    stranger.destroy();
  });

  it("answers an unsigned request in the AWS JSON error shape", async () => {
    const response = await fetch(`${kms.endpoint}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.ListKeys" },
      body: "{}",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(response.headers.get("x-amzn-requestid")).toBeTruthy();
    expect(await response.json()).toEqual({ __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
  });
});

describe("fault injection", () => {
  it("throttles the next requests: surfaced with maxAttempts 1, retried away by the SDK otherwise", async () => {
    const key = await createKey();
    const once = clientFor(kms, DEV_KMS_CUSTOMER_ADMIN, { maxAttempts: 1 });
    kms.faults.throttleNext(1);
    await expect(once.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    await once.send(new DescribeKeyCommand({ KeyId: key.KeyId }));

    kms.faults.throttleNext(1, "Encrypt");
    await once.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    await expect(once.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }))).rejects.toMatchObject({ name: "ThrottlingException" });
    once.destroy();

    kms.faults.throttleNext(1);
    const retried = await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(retried.$metadata.attempts).toBe(2);
  });

  it("throttles requests beyond a configured rate", async () => {
    const key = await createKey();
    const once = clientFor(kms, DEV_KMS_CUSTOMER_ADMIN, { maxAttempts: 1 });
    kms.faults.limitRate(2);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => once.send(new DescribeKeyCommand({ KeyId: key.KeyId }))));
    kms.faults.limitRate(undefined);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.map((r) => (r.reason as Error).name)).toEqual(["ThrottlingException", "ThrottlingException", "ThrottlingException"]);
    await once.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    once.destroy();
  });

  it("resets the next connections: surfaced as a network error with maxAttempts 1, retried away by the SDK otherwise", async () => {
    const key = await createKey();
    const once = clientFor(kms, DEV_KMS_CUSTOMER_ADMIN, { maxAttempts: 1 });
    kms.faults.resetNext(1, "Encrypt");
    await once.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    await expect(once.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }))).rejects.toMatchObject({ code: "ECONNRESET" });
    await once.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: bytes("x") }));
    once.destroy();

    kms.faults.resetNext(1);
    const retried = await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(retried.$metadata.attempts).toBe(2);
  });

  it("delays the next requests", async () => {
    const key = await createKey();
    kms.faults.delayNext(300);
    const started = Date.now();
    await admin.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("persistence", () => {
  it("keeps keys, state, policies and grants across restarts; old ciphertext still decrypts", async () => {
    const dataDir = tempDir();
    let server = await start(dataDir);
    let customer = clientFor(server, DEV_KMS_CUSTOMER_ADMIN);
    let service = clientFor(server, SERVICE);
    const policy = policyWith({ Sid: "Vendor", Effect: "Allow", Principal: { AWS: SERVICE.arn }, Action: "kms:DescribeKey", Resource: "*" });
    const { KeyMetadata: key } = await customer.send(new CreateKeyCommand({ Policy: policy }));
    const { KeyMetadata: disabledKey } = await customer.send(new CreateKeyCommand({}));
    await customer.send(new DisableKeyCommand({ KeyId: disabledKey!.KeyId }));
    await customer.send(new CreateAliasCommand({ AliasName: "alias/persisted", TargetKeyId: key!.KeyId }));
    const { GrantId } = await customer.send(
      new CreateGrantCommand({ KeyId: key!.KeyId, GranteePrincipal: SERVICE.arn, Operations: ["GenerateDataKey", "Decrypt"], Constraints: { EncryptionContextSubset: { tenant_id: "t-1" } } }),
    );
    const dataKey = await service.send(new GenerateDataKeyCommand({ KeyId: "alias/persisted", KeySpec: "AES_256", EncryptionContext: { tenant_id: "t-1" } }));
    customer.destroy();
    service.destroy();
    await server.close();

    // Nothing secret is readable on disk: not the data key, not even the key ids.
    const masterKeyFile = path.join(dataDir, "master.key");
    expect(statSync(masterKeyFile).mode & 0o777).toBe(0o600);
    const plaintext = Buffer.from(dataKey.Plaintext!);
    for (const name of readdirSync(dataDir)) {
      if (name === "master.key") continue;
      const content = readFileSync(path.join(dataDir, name));
      for (const needle of [plaintext, Buffer.from(plaintext.toString("base64")), Buffer.from(plaintext.toString("hex")), Buffer.from(key!.KeyId!)]) {
        expect(content.includes(needle)).toBe(false);
      }
    }

    server = await start(dataDir);
    customer = clientFor(server, DEV_KMS_CUSTOMER_ADMIN);
    service = clientFor(server, SERVICE);
    const { Plaintext } = await service.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-1" } }));
    expect(Buffer.from(Plaintext!).equals(plaintext)).toBe(true);
    expect((await customer.send(new DescribeKeyCommand({ KeyId: disabledKey!.KeyId }))).KeyMetadata?.KeyState).toBe("Disabled");
    expect((await customer.send(new GetKeyPolicyCommand({ KeyId: key!.KeyId }))).Policy).toBe(policy);
    expect((await service.send(new DescribeKeyCommand({ KeyId: "alias/persisted" }))).KeyMetadata?.KeyId).toBe(key!.KeyId);
    expect((await customer.send(new ListGrantsCommand({ KeyId: key!.KeyId }))).Grants?.map((g) => g.GrantId)).toEqual([GrantId]);
    await customer.send(new RevokeGrantCommand({ KeyId: key!.KeyId, GrantId }));
    customer.destroy();
    service.destroy();
    await server.close();

    // Revoked before the restart: stays revoked after it.
    server = await start(dataDir);
    service = clientFor(server, SERVICE);
    await expect(service.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { tenant_id: "t-1" } }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    service.destroy();
    await server.close();
  });

  it("refuses to start with the wrong master key or a damaged store, and while another server holds the folder", async () => {
    const dataDir = tempDir();
    const masterKey = randomBytes(32);
    const server = await start(dataDir, masterKey);
    await expect(start(dataDir, masterKey)).rejects.toThrow(/already open in this process/);
    const customer = clientFor(server, DEV_KMS_CUSTOMER_ADMIN);
    await customer.send(new CreateKeyCommand({}));
    customer.destroy();
    await server.close();
    expect(readdirSync(dataDir)).not.toContain("master.key");

    await expect(start(dataDir, randomBytes(32))).rejects.toThrow(/different master key/);
    await expect(start(dataDir)).rejects.toThrow(/master key file .* is missing/);

    const storeFile = path.join(dataDir, "store.enc");
    const store = readFileSync(storeFile);
    store[store.length - 20]! ^= 0xff;
    writeFileSync(storeFile, store);
    await expect(start(dataDir, masterKey)).rejects.toThrow(/damaged/);
  });
});
