import { requireKeyAccess } from "../access";
import { notFound } from "../errors";
import { keyArnOf } from "../model";
import { MAX_POLICY_BYTES, parseKeyPolicy } from "../policy";
import type { Operation, OperationContext } from "./context";
import { checkPolicyLockout, keyFromKeyId } from "./keys";
import { scopeOf } from "./context";

// GetKeyPolicy and PutKeyPolicy. A key has exactly one policy, named "default". Neither works
// across accounts, and a grant cannot allow either.

const POLICY_NAME = /^[\w]+$/;

function readPolicyName(context: OperationContext): "default" {
  const name = context.fields.string("PolicyName", { min: 1, max: 128, pattern: POLICY_NAME }) ?? "default";
  if (name !== "default") throw notFound(`No such policy exists: ${name}. The only key policy name is default.`);
  return name;
}

export const getKeyPolicy: Operation = (context) => {
  const key = keyFromKeyId(context, { aliases: false, crossAccount: false });
  const policyName = readPolicyName(context);
  requireKeyAccess(scopeOf(context), { caller: context.caller, key, operation: "GetKeyPolicy", grantable: false });
  return { Policy: key.policy, PolicyName: policyName };
};

export const putKeyPolicy: Operation = (context) => {
  const key = keyFromKeyId(context, { aliases: false, crossAccount: false });
  readPolicyName(context);
  const policy = context.fields.requiredString("Policy", { min: 1, max: MAX_POLICY_BYTES });
  const bypassLockoutCheck = context.fields.boolean("BypassPolicyLockoutSafetyCheck") ?? false;
  requireKeyAccess(scopeOf(context), { caller: context.caller, key, operation: "PutKeyPolicy", grantable: false });
  const parsed = parseKeyPolicy(policy);
  if (!bypassLockoutCheck) checkPolicyLockout(parsed, context.caller, key);
  const previous = key.policy;
  context.store.mutate((draft) => {
    const target = draft.keys.get(keyArnOf(key));
    if (target) target.policy = policy;
  });
  context.propagation.keyPolicyChanged(keyArnOf(key), previous, context.now);
  return undefined;
};
