import { randomBytes, randomUUID } from "node:crypto";
import { keyPolicyAllows, requireIdentityPermission, requireKeyAccess } from "../access";
import { invalidRequest, invalidState, malformedPolicy, tagError, unsupported } from "../errors";
import type { Fields } from "../fields";
import { resolveKey } from "../key-refs";
import { epochSeconds, keyArnOf, type KeyRecord } from "../model";
import { defaultKeyPolicy, MAX_POLICY_BYTES, parseKeyPolicy, type KeyPolicy } from "../policy";
import type { Principal } from "../principals";
import { checkGrantTokens, paginate, requireNotPendingDeletion, type Operation, type OperationContext, scopeOf } from "./context";

// Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion. Only symmetric encryption keys with KMS-generated material exist here.

const KEY_SPECS = [
  "ECC_NIST_EDWARDS25519", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
  "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
  "ML_KEM_1024", "ML_KEM_512", "ML_KEM_768", "RSA_2048", "RSA_3072", "RSA_4096", "SM2", "SYMMETRIC_DEFAULT",
] as const;
const KEY_USAGES = ["ENCAPSULATE_DECAPSULATE", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "SIGN_VERIFY"] as const;
const ORIGINS = ["AWS_CLOUDHSM", "AWS_KMS", "EXTERNAL", "EXTERNAL_KEY_STORE"] as const;
const MAX_TAGS = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

/** KeyMetadata as DescribeKey and CreateKey return it. */
export function keyMetadata(key: KeyRecord): Record<string, unknown> {
  const arn = keyArnOf(key);
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.state,
    ...(key.deletionDate !== undefined ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    KeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: key.multiRegion,
    ...(key.multiRegion
      ? { MultiRegionConfiguration: { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: arn, Region: key.region }, ReplicaKeys: [] } }
      : {}),
    CurrentKeyMaterialId: key.keyMaterialId,
  };
}

/**
 * KMS refuses a policy that would stop the caller from changing the policy again, unless
 * BypassPolicyLockoutSafetyCheck is set: a key nobody can administer cannot be recovered.
 */
export function checkPolicyLockout(policy: KeyPolicy, caller: Principal, key: KeyRecord): void {
  const decision = keyPolicyAllows(policy, { caller, key, operation: "PutKeyPolicy" });
  if (!decision.allowed) {
    throw malformedPolicy("The new key policy will not allow you to update the key policy in the future.");
  }
}

export const createKey: Operation = (context) => {
  const { fields, caller, region, now } = context;
  const policy = fields.string("Policy", { min: 1, max: MAX_POLICY_BYTES });
  const description = fields.string("Description", { min: 0, max: 8192 }) ?? "";
  const keyUsage = fields.enumValue("KeyUsage", KEY_USAGES) ?? "ENCRYPT_DECRYPT";
  const keySpec = fields.enumValue("KeySpec", KEY_SPECS);
  const masterKeySpec = fields.enumValue("CustomerMasterKeySpec", KEY_SPECS);
  const origin = fields.enumValue("Origin", ORIGINS) ?? "AWS_KMS";
  const customKeyStoreId = fields.string("CustomKeyStoreId", { min: 1, max: 64 });
  const xksKeyId = fields.string("XksKeyId", { min: 1, max: 128 });
  const bypassLockoutCheck = fields.boolean("BypassPolicyLockoutSafetyCheck") ?? false;
  const multiRegion = fields.boolean("MultiRegion") ?? false;
  const tags = readTags(fields);
  if (keySpec !== undefined && masterKeySpec !== undefined) {
    throw invalidRequest("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.");
  }
  if ((keySpec ?? masterKeySpec ?? "SYMMETRIC_DEFAULT") !== "SYMMETRIC_DEFAULT" || keyUsage !== "ENCRYPT_DECRYPT") {
    throw unsupported("The development KMS supports only symmetric encryption keys (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT).");
  }
  if (origin !== "AWS_KMS" || customKeyStoreId !== undefined || xksKeyId !== undefined) {
    throw unsupported("The development KMS supports only keys with KMS-generated material (Origin AWS_KMS).");
  }

  requireIdentityPermission(caller, "CreateKey", "*", scopeOf(context));
  if (caller.accountId !== context.accountId) {
    throw unsupported(`The development KMS holds keys for account ${context.accountId} only.`);
  }

  const keyId = multiRegion ? `mrk-${randomBytes(16).toString("hex")}` : randomUUID();
  const key: KeyRecord = {
    keyId,
    accountId: caller.accountId,
    region,
    createdAt: now,
    description,
    state: "Enabled",
    multiRegion,
    policy: policy ?? defaultKeyPolicy(caller.accountId),
    tags,
    material: randomBytes(32).toString("base64"),
    keyMaterialId: randomBytes(32).toString("hex"),
  };
  if (policy !== undefined) {
    const parsed = parseKeyPolicy(policy);
    if (!bypassLockoutCheck) checkPolicyLockout(parsed, caller, key);
  }
  context.store.mutate((draft) => draft.keys.set(keyArnOf(key), key));
  return { KeyMetadata: keyMetadata(key) };
};

function readTags(fields: Fields): KeyRecord["tags"] {
  const list = fields.objectList("Tags") ?? [];
  if (list.length > MAX_TAGS) throw tagError(`A key can have at most ${MAX_TAGS} tags.`);
  const tags = list.map((tag) => ({
    TagKey: tag.requiredString("TagKey", { min: 1, max: 128 }),
    TagValue: tag.requiredString("TagValue", { min: 0, max: 256 }),
  }));
  const keys = new Set<string>();
  for (const { TagKey } of tags) {
    if (TagKey.toLowerCase().startsWith("aws:")) throw tagError("Tag keys beginning with aws: are reserved for AWS.");
    if (keys.has(TagKey)) throw tagError(`Duplicate tag key: ${TagKey}.`);
    keys.add(TagKey);
  }
  return tags;
}

/** The key named by the request's KeyId member, for operations that take key ids and ARNs only. */
export function keyFromKeyId(context: OperationContext, options: { aliases: boolean; crossAccount: boolean }): KeyRecord {
  const value = context.fields.requiredString("KeyId", { min: 1, max: 2048 });
  return resolveKey(context.store.state, value, { caller: context.caller, region: context.region, ...options });
}

export const describeKey: Operation = (context) => {
  const key = keyFromKeyId(context, { aliases: true, crossAccount: true });
  checkGrantTokens(context);
  requireKeyAccess(scopeOf(context), { caller: context.caller, key, operation: "DescribeKey", grantable: true });
  return { KeyMetadata: keyMetadata(key) };
};

export const listKeys: Operation = (context) => {
  const { caller, region } = context;
  const keys = [...context.store.state.keys.values()].filter((k) => k.accountId === caller.accountId && k.region === region);
  const { page, ...more } = paginate(context, keys, (k) => k.keyId, { default: 100, max: 1000 });
  requireIdentityPermission(caller, "ListKeys", "*", scopeOf(context));
  return { Keys: page.map((k) => ({ KeyId: k.keyId, KeyArn: keyArnOf(k) })), ...more };
};

/** EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion act on the caller's own keys only. */
function ownKey(context: OperationContext, operation: string): KeyRecord {
  const key = keyFromKeyId(context, { aliases: false, crossAccount: false });
  requireKeyAccess(scopeOf(context), { caller: context.caller, key, operation, grantable: false });
  return key;
}

function update(context: OperationContext, key: KeyRecord, change: (draft: KeyRecord) => void): KeyRecord {
  return context.store.mutate((draft) => {
    const target = draft.keys.get(keyArnOf(key));
    if (!target) throw new Error("key vanished during an update");
    change(target);
    return target;
  });
}

export const enableKey: Operation = (context) => {
  const key = ownKey(context, "EnableKey");
  requireNotPendingDeletion(key);
  if (key.state !== "Enabled") update(context, key, (k) => void (k.state = "Enabled"));
  return undefined;
};

export const disableKey: Operation = (context) => {
  const key = ownKey(context, "DisableKey");
  requireNotPendingDeletion(key);
  if (key.state !== "Disabled") update(context, key, (k) => void (k.state = "Disabled"));
  return undefined;
};

export const scheduleKeyDeletion: Operation = (context) => {
  const days = context.fields.integer("PendingWindowInDays", { min: 7, max: 30 }) ?? 30;
  const key = ownKey(context, "ScheduleKeyDeletion");
  requireNotPendingDeletion(key);
  const deletionDate = context.now + days * DAY_MS;
  update(context, key, (k) => {
    k.state = "PendingDeletion";
    k.deletionDate = deletionDate;
  });
  return {
    KeyId: keyArnOf(key),
    DeletionDate: epochSeconds(deletionDate),
    KeyState: "PendingDeletion",
    PendingWindowInDays: days,
  };
};

export const cancelKeyDeletion: Operation = (context) => {
  const key = ownKey(context, "CancelKeyDeletion");
  if (key.state !== "PendingDeletion") throw invalidState(`${keyArnOf(key)} is not pending deletion.`);
  // KMS leaves a key whose deletion was cancelled Disabled: enabling it is a separate decision.
  update(context, key, (k) => {
    k.state = "Disabled";
    delete k.deletionDate;
  });
  return { KeyId: keyArnOf(key) };
};
