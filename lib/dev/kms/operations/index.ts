import { createAlias, deleteAlias, listAliases } from "./aliases";
import type { Operation } from "./context";
import { decrypt, encrypt, generateDataKeyOp, generateDataKeyWithoutPlaintext, reEncrypt } from "./crypto";
import { createGrant, listGrants, retireGrant, revokeGrant } from "./grants";
import { cancelKeyDeletion, createKey, describeKey, disableKey, enableKey, listKeys, scheduleKeyDeletion } from "./keys";
import { getKeyPolicy, putKeyPolicy } from "./policy";

// The operations this server implements, by the name in X-Amz-Target ("TrentService.<name>").
// Any other name is answered with UnknownOperationException.

export const OPERATIONS: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  ["CreateKey", createKey],
  ["DescribeKey", describeKey],
  ["ListKeys", listKeys],
  ["EnableKey", enableKey],
  ["DisableKey", disableKey],
  ["ScheduleKeyDeletion", scheduleKeyDeletion],
  ["CancelKeyDeletion", cancelKeyDeletion],
  ["CreateAlias", createAlias],
  ["DeleteAlias", deleteAlias],
  ["ListAliases", listAliases],
  ["Encrypt", encrypt],
  ["Decrypt", decrypt],
  ["GenerateDataKey", generateDataKeyOp],
  ["GenerateDataKeyWithoutPlaintext", generateDataKeyWithoutPlaintext],
  ["ReEncrypt", reEncrypt],
  ["CreateGrant", createGrant],
  ["ListGrants", listGrants],
  ["RetireGrant", retireGrant],
  ["RevokeGrant", revokeGrant],
  ["GetKeyPolicy", getKeyPolicy],
  ["PutKeyPolicy", putKeyPolicy],
]);

export type { Operation, OperationContext } from "./context";
