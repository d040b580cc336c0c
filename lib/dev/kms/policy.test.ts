import { describe, expect, it } from "vitest";
import { conditionLookup, keyPolicyAllows } from "./access";
import type { KeyRecord } from "./model";
import { defaultKeyPolicy, evaluateKeyPolicy, parseKeyPolicy } from "./policy";
import type { Principal } from "./principals";

const ACCOUNT = "111122223333";
const vendor: Principal = { accessKeyId: "AKIAVENDOR00000000000", secretAccessKey: "x".repeat(16), arn: `arn:aws:iam::${ACCOUNT}:role/vendor`, principalArn: `arn:aws:iam::${ACCOUNT}:role/vendor`, accountId: ACCOUNT, admin: false };
const admin: Principal = { ...vendor, accessKeyId: "AKIAADMIN000000000000", arn: `arn:aws:iam::${ACCOUNT}:user/admin`, principalArn: `arn:aws:iam::${ACCOUNT}:user/admin`, admin: true };
const outsider: Principal = { ...vendor, arn: "arn:aws:iam::999988887777:role/outsider", principalArn: "arn:aws:iam::999988887777:role/outsider", accountId: "999988887777" };
const outsiderAdmin: Principal = { ...outsider, admin: true };
const key: KeyRecord = {
  keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
  accountId: ACCOUNT,
  region: "us-east-1",
  createdAt: 0,
  description: "",
  state: "Enabled",
  multiRegion: false,
  policy: "",
  tags: [],
  material: "",
  keyMaterialId: "",
};
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${key.keyId}`;

function policy(...statements: object[]) {
  return parseKeyPolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }));
}

function decide(statements: object[], caller: Principal, operation: string, encryptionContext?: Record<string, string>) {
  return keyPolicyAllows(policy(...statements), { caller, key, operation, encryptionContext });
}

const allowVendor = (extra: object = {}) => ({ Effect: "Allow", Principal: { AWS: vendor.arn }, Action: "kms:*", Resource: "*", ...extra });

describe("key policy principals and IAM delegation", () => {
  const root = JSON.parse(defaultKeyPolicy(ACCOUNT)).Statement;

  it("lets the account root statement allow only principals whose IAM allows KMS", () => {
    expect(decide(root, admin, "Decrypt")).toEqual({ allowed: true, via: "policy" });
    expect(decide(root, vendor, "Decrypt")).toEqual({ allowed: false, denial: "no-resource-policy" });
    expect(decide([{ ...root[0], Principal: { AWS: ACCOUNT } }], admin, "Decrypt").allowed).toBe(true);
  });

  it("lets a statement naming the principal (or *) allow it without IAM, in the key's account", () => {
    expect(decide([allowVendor()], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([{ ...allowVendor(), Principal: "*" }], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([{ ...allowVendor(), Principal: { AWS: ["*"] } }], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor()], admin, "Decrypt").allowed).toBe(false);
  });

  it("requires IAM permission as well for callers from another account", () => {
    const named = { ...allowVendor(), Principal: { AWS: outsider.arn } };
    expect(decide([named], outsider, "Decrypt")).toEqual({ allowed: false, denial: "no-identity-policy" });
    expect(decide([named], outsiderAdmin, "Decrypt").allowed).toBe(true);
    expect(decide([{ ...named, Principal: { AWS: "arn:aws:iam::999988887777:root" } }], outsiderAdmin, "Decrypt").allowed).toBe(true);
    expect(decide(root, outsiderAdmin, "Decrypt").allowed).toBe(false);
  });

  it("lets an applicable Deny win, including one that names the account", () => {
    const deny = { Effect: "Deny", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:Decrypt", Resource: "*" };
    expect(decide([allowVendor(), deny], vendor, "Decrypt")).toEqual({ allowed: false, denial: "explicit-deny" });
    expect(decide([allowVendor(), deny], vendor, "Encrypt").allowed).toBe(true);
  });
});

describe("actions and resources", () => {
  it("matches actions case-insensitively with wildcards, and NotAction", () => {
    expect(decide([allowVendor({ Action: "kms:GenerateDataKey*" })], vendor, "GenerateDataKeyWithoutPlaintext").allowed).toBe(true);
    expect(decide([allowVendor({ Action: "KMS:decrypt" })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Action: ["kms:Encrypt", "kms:Decrypt"] })], vendor, "ReEncryptFrom").allowed).toBe(false);
    expect(decide([allowVendor({ Action: undefined, NotAction: "kms:ScheduleKeyDeletion" })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Action: undefined, NotAction: "kms:ScheduleKeyDeletion" })], vendor, "ScheduleKeyDeletion").allowed).toBe(false);
  });

  it("matches Resource against the key ARN", () => {
    expect(decide([allowVendor({ Resource: KEY_ARN })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Resource: "arn:aws:kms:us-east-1:111122223333:key/*" })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Resource: "arn:aws:kms:eu-west-1:111122223333:key/*" })], vendor, "Decrypt").allowed).toBe(false);
  });
});

describe("conditions", () => {
  const tenant = (operator: string, value: unknown, key = "kms:EncryptionContext:tenant_id") => allowVendor({ Condition: { [operator]: { [key]: value } } });

  it("compares encryption context values exactly, with the context key matched case-insensitively", () => {
    expect(decide([tenant("StringEquals", "t-1")], vendor, "Decrypt", { tenant_id: "t-1" }).allowed).toBe(true);
    expect(decide([tenant("StringEquals", "t-1")], vendor, "Decrypt", { TENANT_ID: "t-1" }).allowed).toBe(true);
    expect(decide([tenant("StringEquals", "t-1")], vendor, "Decrypt", { tenant_id: "T-1" }).allowed).toBe(false);
    expect(decide([tenant("StringEquals", ["t-1", "t-2"])], vendor, "Decrypt", { tenant_id: "t-2" }).allowed).toBe(true);
    expect(decide([tenant("StringEquals", "t-1")], vendor, "Decrypt").allowed).toBe(false);
    expect(decide([tenant("StringEqualsIgnoreCase", "T-1")], vendor, "Decrypt", { tenant_id: "t-1" }).allowed).toBe(true);
    expect(decide([tenant("StringLike", "t-*")], vendor, "Decrypt", { tenant_id: "t-42" }).allowed).toBe(true);
    expect(decide([tenant("StringLike", "t-?")], vendor, "Decrypt", { tenant_id: "t-42" }).allowed).toBe(false);
  });

  it("treats a missing key as IAM does: negated operators and IfExists are true, others false", () => {
    expect(decide([tenant("StringNotEquals", "blocked")], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([tenant("StringNotEquals", "blocked")], vendor, "Decrypt", { tenant_id: "blocked" }).allowed).toBe(false);
    expect(decide([tenant("StringEqualsIfExists", "t-1")], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([tenant("StringEqualsIfExists", "t-1")], vendor, "Decrypt", { tenant_id: "t-2" }).allowed).toBe(false);
    expect(decide([tenant("Null", "true")], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([tenant("Null", "false")], vendor, "Decrypt").allowed).toBe(false);
  });

  it("applies set operators to kms:EncryptionContextKeys", () => {
    const keys = (operator: string, value: unknown) => tenant(operator, value, "kms:EncryptionContextKeys");
    const onlyKnownKeys = keys("ForAllValues:StringEquals", ["tenant_id", "purpose"]);
    expect(decide([onlyKnownKeys], vendor, "Decrypt", { tenant_id: "a", purpose: "b" }).allowed).toBe(true);
    expect(decide([onlyKnownKeys], vendor, "Decrypt", { tenant_id: "a", other: "b" }).allowed).toBe(false);
    expect(decide([onlyKnownKeys], vendor, "Decrypt").allowed).toBe(true); // vacuously true, as in IAM
    const someKey = keys("ForAnyValue:StringEquals", "tenant_id");
    expect(decide([someKey], vendor, "Decrypt", { tenant_id: "a", other: "b" }).allowed).toBe(true);
    expect(decide([someKey], vendor, "Decrypt").allowed).toBe(false);
  });

  it("knows the caller's account and ARN, and that no service is calling via", () => {
    expect(decide([allowVendor({ Condition: { StringEquals: { "kms:CallerAccount": ACCOUNT } } })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/vend*" } } })], vendor, "Decrypt").allowed).toBe(true);
    expect(decide([allowVendor({ Condition: { StringLike: { "kms:ViaService": "*" } } })], vendor, "Decrypt").allowed).toBe(false);
    expect(decide([allowVendor({ Condition: { Bool: { "kms:GrantIsForAWSResource": true } } })], vendor, "Decrypt").allowed).toBe(false);
  });

  it("requires every operator and every key in a block to hold", () => {
    const both = allowVendor({ Condition: { StringEquals: { "kms:EncryptionContext:tenant_id": "t-1", "kms:EncryptionContext:purpose": "dek" }, Null: { "kms:EncryptionContext:x": "true" } } });
    expect(decide([both], vendor, "Decrypt", { tenant_id: "t-1", purpose: "dek" }).allowed).toBe(true);
    expect(decide([both], vendor, "Decrypt", { tenant_id: "t-1", purpose: "dek", x: "1" }).allowed).toBe(false);
    expect(decide([both], vendor, "Decrypt", { tenant_id: "t-1" }).allowed).toBe(false);
  });

  it("exposes condition keys case-insensitively by name", () => {
    const lookup = conditionLookup({ caller: vendor, key, operation: "Decrypt", encryptionContext: { Tenant: "a" } });
    expect(lookup("kms:encryptioncontext:tenant")).toEqual(["a"]);
    expect(lookup("kms:encryptioncontextkeys")).toEqual(["Tenant"]);
    expect(lookup("kms:viaservice")).toBeUndefined();
  });
});

describe("policy validation", () => {
  const malformed = (document: unknown) => () => parseKeyPolicy(typeof document === "string" ? document : JSON.stringify(document));
  const statement = { Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" };

  it.each([
    ["not JSON", "{"],
    ["no statement", { Version: "2012-10-17" }],
    ["empty statement list", { Statement: [] }],
    ["bad effect", { Statement: [{ ...statement, Effect: "Permit" }] }],
    ["no principal", { Statement: [{ ...statement, Principal: undefined }] }],
    ["NotPrincipal", { Statement: [{ ...statement, Principal: undefined, NotPrincipal: { AWS: "*" } }] }],
    ["invalid principal", { Statement: [{ ...statement, Principal: { AWS: "someone" } }] }],
    ["no action", { Statement: [{ ...statement, Action: undefined }] }],
    ["Action and NotAction", { Statement: [{ ...statement, NotAction: "kms:Decrypt" }] }],
    ["no resource", { Statement: [{ ...statement, Resource: undefined }] }],
    ["unknown element", { Statement: [{ ...statement, Extra: 1 }] }],
    ["unsupported operator", { Statement: [{ ...statement, Condition: { NumericLessThan: { "kms:x": 1 } } }] }],
    ["bad version", { Version: "2020-01-01", Statement: [statement] }],
  ])("refuses a policy with %s", (_, document) => {
    expect(malformed(document)).toThrow(expect.objectContaining({ code: "MalformedPolicyDocumentException" }));
  });

  it("accepts a single statement object, Service principals and account ids", () => {
    const parsed = parseKeyPolicy(JSON.stringify({ Statement: { ...statement, Principal: { AWS: ACCOUNT, Service: "logs.amazonaws.com" } } }));
    expect(evaluateKeyPolicy(parsed, { principal: admin, action: "kms:Decrypt", resource: KEY_ARN, conditions: () => undefined })).toEqual({
      explicitDeny: false,
      allowsPrincipal: false,
      allowsAccount: true,
    });
  });
});
