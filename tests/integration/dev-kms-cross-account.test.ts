import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, GenerateDataKeyCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_PRINCIPALS, devKmsClientConfig, type DevKmsCredentials } from "@/lib/dev/kms/defaults";
import { startDevKms, type DevKms } from "@/lib/dev/kms/server";

// The development KMS in Custody's production topology, through the real AWS SDK: the caller
// (the vendor's role) is in another account than the key, so AWS requires the key policy (or
// a grant) AND the caller's identity policy, an explicit Deny on either side wins, and the
// refusal names the side in AWS's words. New grants and policies can take time to apply.

const VENDOR_ACCOUNT = "999988887777";
const VENDOR: DevKmsCredentials = {
  accessKeyId: "AKIAXACCOUNTVENDOR01",
  secretAccessKey: "cross-account-vendor-secret",
  arn: `arn:aws:iam::${VENDOR_ACCOUNT}:role/vendor`,
};
const CONTEXT = { tenant_id: "t-1" };
const ALL_KMS = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };

let dataDir: string;
let kms: DevKms;
let admin: KMSClient;
let vendor: KMSClient;
let offset = 0;

function keyPolicy(...statements: object[]) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "Root", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" },
      ...statements,
    ],
  });
}
const allowVendor = (extra: object = {}) => ({ Effect: "Allow", Principal: { AWS: VENDOR.arn }, Action: ["kms:DescribeKey", "kms:GenerateDataKey"], Resource: "*", ...extra });

async function key(policy?: string): Promise<string> {
  const { KeyMetadata } = await admin.send(new CreateKeyCommand({ Policy: policy }));
  return KeyMetadata!.Arn!;
}

const generate = (keyArn: string, context: Record<string, string> = CONTEXT) =>
  vendor.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256", EncryptionContext: context }));

function refusedWith(reason: string, operation = "GenerateDataKey") {
  return { name: "AccessDeniedException", message: expect.stringMatching(new RegExp(`^User: ${VENDOR.arn} is not authorized to perform: kms:${operation} on resource: arn:aws:kms:.* ${reason}$`)) };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "custody-dev-kms-xa-"));
  kms = await startDevKms({
    port: 0,
    dataDir,
    accountId: DEV_KMS_ACCOUNT_ID,
    principals: { ...DEV_KMS_PRINCIPALS, [VENDOR.accessKeyId]: { secretAccessKey: VENDOR.secretAccessKey, arn: VENDOR.arn } },
    clock: () => Date.now() + offset,
  });
  admin = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  vendor = new KMSClient({ ...devKmsClientConfig(kms.endpoint, VENDOR), maxAttempts: 1 });
});

afterAll(async () => {
  admin?.destroy();
  vendor?.destroy();
  await kms?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("key policy and identity policy across accounts", () => {
  it("refuses a key-policy grant of access until the caller's own identity policy allows it too, naming the identity side", async () => {
    kms.setIdentityPolicy(VENDOR.arn, undefined);
    const arn = await key(keyPolicy(allowVendor()));
    await expect(generate(arn)).rejects.toMatchObject(refusedWith("because no identity-based policy allows the kms:GenerateDataKey action"));
    kms.setIdentityPolicy(VENDOR.arn, ALL_KMS);
    expect((await generate(arn)).Plaintext).toHaveLength(32);
  });

  it("names the resource side when the key policy has no statement for the caller, whatever its identity policy says", async () => {
    kms.setIdentityPolicy(VENDOR.arn, ALL_KMS);
    const arn = await key(keyPolicy());
    await expect(generate(arn)).rejects.toMatchObject(refusedWith("because no resource-based policy allows the kms:GenerateDataKey action"));
  });

  it("evaluates the identity policy's conditions (the encryption context) and lets its explicit Deny win over a grant", async () => {
    kms.setIdentityPolicy(VENDOR.arn, {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "*", Condition: { Null: { "kms:EncryptionContext:tenant_id": "false" } } },
        { Effect: "Deny", Action: "kms:GenerateDataKey", Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:tenant_id": "blocked" } } },
      ],
    });
    const arn = await key(keyPolicy(allowVendor()));
    expect((await generate(arn)).Plaintext).toHaveLength(32);
    await expect(generate(arn, { other: "x" })).rejects.toMatchObject(refusedWith("because no identity-based policy allows the kms:GenerateDataKey action"));
    await admin.send(new CreateGrantCommand({ KeyId: arn, GranteePrincipal: VENDOR.arn, Operations: ["GenerateDataKey"] }));
    await expect(generate(arn, { tenant_id: "blocked" })).rejects.toMatchObject(refusedWith("with an explicit deny in an identity-based policy"));
  });

  it("lets a grant allow a caller of another account without any identity policy (AWS's exception), but not past the key policy's explicit Deny", async () => {
    kms.setIdentityPolicy(VENDOR.arn, undefined);
    const arn = await key(keyPolicy());
    await admin.send(new CreateGrantCommand({ KeyId: arn, GranteePrincipal: VENDOR.arn, Operations: ["DescribeKey", "GenerateDataKey"], Constraints: { EncryptionContextSubset: CONTEXT } }));
    expect((await vendor.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata?.Arn).toBe(arn);
    expect((await generate(arn)).Plaintext).toHaveLength(32);
    await admin.send(new PutKeyPolicyCommand({ KeyId: arn, Policy: keyPolicy({ Effect: "Deny", Principal: { AWS: VENDOR.arn }, Action: "kms:*", Resource: "*" }) }));
    await expect(generate(arn)).rejects.toMatchObject(refusedWith("with an explicit deny in a resource-based policy"));
  });

  it("evaluates kms:CallerAccount, aws:PrincipalArn and kms:ViaService in the key policy", async () => {
    kms.setIdentityPolicy(VENDOR.arn, ALL_KMS);
    const byAccount = await key(keyPolicy(allowVendor({ Principal: { AWS: `arn:aws:iam::${VENDOR_ACCOUNT}:root` }, Condition: { StringEquals: { "kms:CallerAccount": VENDOR_ACCOUNT } } })));
    expect((await generate(byAccount)).Plaintext).toHaveLength(32);
    const otherAccount = await key(keyPolicy(allowVendor({ Condition: { StringEquals: { "kms:CallerAccount": "444455556666" } } })));
    await expect(generate(otherAccount)).rejects.toMatchObject(refusedWith("because no resource-based policy allows the kms:GenerateDataKey action"));
    const byArn = await key(keyPolicy(allowVendor({ Principal: "*", Condition: { ArnEquals: { "aws:PrincipalArn": VENDOR.arn } } })));
    expect((await generate(byArn)).Plaintext).toHaveLength(32);
    // No AWS service calls the development KMS on anyone's behalf: a kms:ViaService condition never holds.
    const viaService = await key(keyPolicy(allowVendor({ Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } } })));
    await expect(generate(viaService)).rejects.toMatchObject(refusedWith("because no resource-based policy allows the kms:GenerateDataKey action"));
  });
});

describe("eventual consistency (propagation delay)", () => {
  it("applies a new grant, key policy and identity policy only after the delay", async () => {
    kms.setIdentityPolicy(VENDOR.arn, ALL_KMS);
    kms.setPropagationDelay(60_000);
    try {
      const byGrant = await key(keyPolicy());
      await admin.send(new CreateGrantCommand({ KeyId: byGrant, GranteePrincipal: VENDOR.arn, Operations: ["GenerateDataKey"] }));
      const byPolicy = await key(keyPolicy());
      await admin.send(new PutKeyPolicyCommand({ KeyId: byPolicy, Policy: keyPolicy(allowVendor()) }));
      await expect(generate(byGrant)).rejects.toMatchObject({ name: "AccessDeniedException" });
      await expect(generate(byPolicy)).rejects.toMatchObject({ name: "AccessDeniedException" });
      kms.setIdentityPolicy(VENDOR.arn, undefined); // removing the IAM policy takes time too
      offset += 30_000;
      await expect(generate(byGrant)).rejects.toMatchObject({ name: "AccessDeniedException" });
      offset += 30_000;
      expect((await generate(byGrant)).Plaintext).toHaveLength(32);
      // The key policy now applies; the identity policy's removal has applied as well.
      await expect(generate(byPolicy)).rejects.toMatchObject(refusedWith("because no identity-based policy allows the kms:GenerateDataKey action"));
    } finally {
      kms.setPropagationDelay(0);
      kms.setIdentityPolicy(VENDOR.arn, ALL_KMS);
      offset += 60_000;
    }
  });
});
