import { PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb, getDb } from "@/lib/db";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_VENDOR, DEV_KMS_VENDOR_RUNNER } from "@/lib/dev/kms/defaults";
import { runVendorSelfTest } from "@/lib/fleet/vendor-self-test";
import { setAwsKmsForTests } from "@/lib/kms/providers/aws/settings";
import { vendorIamPolicy } from "@/lib/kms/providers/aws/vendor-policy";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { vendorKmsSettings } from "../helpers/dev-kms";
import { KeyServiceFixture, type TenantWithKey } from "../helpers/key-service";
import { refusal } from "../helpers/refusal";

// The vendor's AWS self-test, against the development KMS and STS with Custody on its role in
// the vendor's account: credentials resolve (GetCallerIdentity on the assumed role), the
// identity is the configured vendor principal, and each tenant's key is tried with the calls
// Custody makes, a refusal put on the side that refused. Every run is audited.

const SESSION_ARN = `arn:aws:sts::999988887777:assumed-role/custody-vendor/${DEV_KMS_VENDOR.sessionName}`;

let database: TestDatabase;
let fixture: KeyServiceFixture;
let acme: TenantWithKey;
let globex: TenantWithKey;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  fixture = await KeyServiceFixture.start(database.url);
  acme = await fixture.tenantWithKey("acme");
  globex = await fixture.tenantWithKey("globex");
});

afterEach(() => {
  fixture.kms.setIdentityPolicy(DEV_KMS_VENDOR.arn, vendorIamPolicy(DEV_KMS_VENDOR.arn));
  setAwsKmsForTests(vendorKmsSettings(fixture.kms.endpoint));
});

afterAll(async () => {
  await fixture?.close();
  await disconnectDb();
  await database?.drop();
});

const vendorEvents = () => getDb().auditEvent.findMany({ where: { chain: "vendor", action: "vendor.aws_self_test" }, orderBy: { seq: "asc" } });

describe("the vendor's AWS self-test", () => {
  it("passes when the role resolves, is the vendor principal and every tenant's key answers; audited on both sides", async () => {
    const result = await runVendorSelfTest(fixture.vendor);
    expect(result.identity).toEqual({ ok: true, arn: SESSION_ARN, account: "999988887777", matchesVendorPrincipal: true });
    expect(result.tenants.map((t) => [t.slug, t.side])).toEqual([["acme", "ok"], ["globex", "ok"]]);
    expect(result.candidates).toBe(2);
    const [event] = (await vendorEvents()).slice(-1);
    expect(event).toMatchObject({ outcome: "SUCCESS", tenantId: null, details: { credentialsResolve: true, principalMatches: true, keysTried: 2, vendorSide: 0 } });
    const inTenant = await getDb().auditEvent.findFirst({ where: { tenantId: acme.tenantId, action: "vendor.aws_self_test" } });
    expect(inTenant).toMatchObject({ outcome: "SUCCESS", actorLabel: "ops@vendor.example" });
    // The vendor never sees the tenants' key identifiers.
    expect(JSON.stringify(result)).not.toContain(acme.kmsKeyArn);
  });

  it("puts a missing IAM policy on the vendor's side and a key policy without Custody on the customer's, vendor side first", async () => {
    fixture.kms.setIdentityPolicy(DEV_KMS_VENDOR.arn, undefined);
    let result = await runVendorSelfTest(fixture.vendor);
    expect(result.identity).toMatchObject({ ok: true, matchesVendorPrincipal: true });
    expect(result.tenants.map((t) => t.side)).toEqual(["vendor", "vendor"]);
    expect(result.tenants[0]!.message).toMatch(/^Refused by your side: Custody's role has no IAM policy allowing the call/);

    fixture.kms.setIdentityPolicy(DEV_KMS_VENDOR.arn, vendorIamPolicy(DEV_KMS_VENDOR.arn));
    const rootOnly = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${DEV_KMS_ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" }] };
    await fixture.customer.send(new PutKeyPolicyCommand({ KeyId: globex.kmsKeyArn, Policy: JSON.stringify(rootOnly) }));
    result = await runVendorSelfTest(fixture.vendor);
    expect(result.tenants.map((t) => [t.slug, t.side])).toEqual([["globex", "customer"], ["acme", "ok"]]);
    expect(result.tenants[0]!.message).toMatch(/^Your key policy \(or grant\) does not allow/);
    const [event] = (await vendorEvents()).slice(-1);
    expect(event).toMatchObject({ outcome: "FAILURE", details: { vendorSide: 0, customerSide: 1 } });
  });

  it("says when Custody runs as another principal than the one tenants admit", async () => {
    setAwsKmsForTests({ ...vendorKmsSettings(fixture.kms.endpoint), vendorPrincipalArn: "arn:aws:iam::999988887777:role/custody-other" });
    const result = await runVendorSelfTest(fixture.vendor);
    expect(result.identity).toMatchObject({ ok: true, arn: SESSION_ARN, matchesVendorPrincipal: false });
  });

  it("names a role it cannot assume (wrong external id) and what Custody starts as, and tries no key", async () => {
    setAwsKmsForTests(vendorKmsSettings(fixture.kms.endpoint, { credentials: { externalId: "not-the-external-id" } }));
    const calls = fixture.kms.calls().GenerateDataKey ?? 0;
    const result = await runVendorSelfTest(fixture.vendor);
    expect(result.identity).toEqual({
      ok: false,
      problem: `Custody could not assume its role ${DEV_KMS_VENDOR.arn} (STS: AccessDenied). The role's trust policy must allow sts:AssumeRole for the identity Custody starts as, with the configured external id.`,
      startsAs: DEV_KMS_VENDOR_RUNNER.arn,
    });
    expect(result.tenants).toEqual([]);
    expect(fixture.kms.calls().GenerateDataKey ?? 0).toBe(calls);
    const [event] = (await vendorEvents()).slice(-1);
    expect(event).toMatchObject({ outcome: "FAILURE", details: { credentialsResolve: false } });
  });

  it("is for vendor admins only", async () => {
    expect((await refusal(runVendorSelfTest(acme.admin))).code).toBe("forbidden");
  });
});
