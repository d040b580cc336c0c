import type { ConditionLookup } from "./conditions";
import type { EncryptionContext } from "./crypto";
import { accessDenied } from "./errors";
import { grantAllows } from "./grants";
import { keyArnOf, type KeyRecord, type StoreState } from "./model";
import { evaluateKeyPolicy, parseKeyPolicy, type KeyPolicy } from "./policy";
import type { Principal } from "./principals";

// Authorisation of a request on a key, as KMS decides it:
//
// 1. A Deny statement in the key policy that applies to the request refuses it. Nothing
//    overrides an explicit deny, grants included.
// 2. The key policy allows it when an Allow statement applies and names
//    - the caller's ARN or "*": enough on its own for a caller of the key's account; or
//    - the caller's account: then the caller's IAM policies must allow it too.
//    A caller from another account always needs its own IAM policies to allow it as well.
//    (IAM is modelled by the principal's `admin` flag: it allows every KMS action or none.)
// 3. Otherwise a grant on the key to the caller, for this operation, whose constraint the
//    request's encryption context satisfies, allows it, for the operations grants can cover.
// 4. Otherwise AccessDeniedException, worded as AWS words it.

export type KeyAccessRequest = {
  caller: Principal;
  key: KeyRecord;
  /** The KMS operation as an action and grant-operation name, e.g. "Decrypt", "ReEncryptFrom". */
  operation: string;
  encryptionContext?: EncryptionContext;
  /** Operation-specific condition keys (lower-case names), e.g. kms:grantoperations. */
  conditionKeys?: Readonly<Record<string, readonly string[]>>;
  /** Whether a grant can allow this operation (KMS: only the operations grants list). */
  grantable: boolean;
};

type Denial = "explicit-deny" | "no-resource-policy" | "no-identity-policy";
export type AccessDecision = { allowed: true; via: "policy" | "grant" } | { allowed: false; denial: Denial };

const policyCache = new Map<string, KeyPolicy>();

function cachedPolicy(text: string): KeyPolicy {
  let policy = policyCache.get(text);
  if (!policy) {
    // Stored policies were validated when they were set.
    policy = parseKeyPolicy(text);
    if (policyCache.size > 500) policyCache.clear();
    policyCache.set(text, policy);
  }
  return policy;
}

/** The condition-key values of a request, as key policies see them. */
export function conditionLookup(request: Omit<KeyAccessRequest, "grantable">): ConditionLookup {
  const context = Object.entries(request.encryptionContext ?? {});
  const values: Record<string, readonly string[]> = {
    "kms:calleraccount": [request.caller.accountId],
    "aws:principalarn": [request.caller.arn],
    "aws:principalaccount": [request.caller.accountId],
    "kms:keyspec": ["SYMMETRIC_DEFAULT"],
    "kms:keyusage": ["ENCRYPT_DECRYPT"],
    "kms:keyorigin": ["AWS_KMS"],
    "kms:multiregion": [String(request.key.multiRegion)],
    ...(request.key.multiRegion ? { "kms:multiregionkeytype": ["PRIMARY"] } : {}),
    ...(context.length > 0 ? { "kms:encryptioncontextkeys": context.map(([key]) => key) } : {}),
    ...request.conditionKeys,
  };
  const contextPrefix = "kms:encryptioncontext:";
  return (name) => {
    if (name.startsWith(contextPrefix)) {
      // The context key in the condition key's name is matched without regard to case.
      const wanted = name.slice(contextPrefix.length);
      const found = context.filter(([key]) => key.toLowerCase() === wanted).map(([, value]) => value);
      return found.length > 0 ? found : undefined;
    }
    return Object.hasOwn(values, name) ? values[name] : undefined;
  };
}

/** Whether the key policy alone (no grants) lets the caller do this; used for the lockout check. */
export function keyPolicyAllows(policy: KeyPolicy, request: Omit<KeyAccessRequest, "grantable">): AccessDecision {
  const result = evaluateKeyPolicy(policy, {
    principal: request.caller,
    action: `kms:${request.operation}`,
    resource: keyArnOf(request.key),
    conditions: conditionLookup(request),
  });
  if (result.explicitDeny) return { allowed: false, denial: "explicit-deny" };
  const iamAllows = request.caller.admin;
  const sameAccount = request.caller.accountId === request.key.accountId;
  const allowed = sameAccount
    ? result.allowsPrincipal || (result.allowsAccount && iamAllows)
    : (result.allowsPrincipal || result.allowsAccount) && iamAllows;
  if (allowed) return { allowed: true, via: "policy" };
  const onlyIamMissing = !sameAccount && (result.allowsPrincipal || result.allowsAccount);
  return { allowed: false, denial: onlyIamMissing ? "no-identity-policy" : "no-resource-policy" };
}

export function decideKeyAccess(state: Readonly<StoreState>, request: KeyAccessRequest): AccessDecision {
  const byPolicy = keyPolicyAllows(cachedPolicy(request.key.policy), request);
  if (byPolicy.allowed || byPolicy.denial === "explicit-deny" || !request.grantable) return byPolicy;
  const arn = keyArnOf(request.key);
  for (const grant of state.grants.values()) {
    if (grant.keyArn === arn && grantAllows(grant, request.caller, request.operation, request.encryptionContext)) {
      return { allowed: true, via: "grant" };
    }
  }
  return byPolicy;
}

/** Throws AccessDeniedException unless the caller may perform the operation on the key. */
export function requireKeyAccess(state: Readonly<StoreState>, request: KeyAccessRequest): void {
  const decision = decideKeyAccess(state, request);
  if (!decision.allowed) throw denied(request.caller, request.operation, keyArnOf(request.key), decision.denial);
}

/**
 * For operations KMS authorises with IAM policies only (CreateKey, ListKeys, ListAliases, the
 * alias half of CreateAlias): allowed for principals whose IAM allows KMS (`admin`).
 */
export function requireIdentityPermission(caller: Principal, operation: string, resource: string): void {
  if (!caller.admin) throw denied(caller, operation, resource, "no-identity-policy");
}

export function denied(caller: Principal, operation: string, resource: string, denial: Denial) {
  const prefix = `User: ${caller.arn} is not authorized to perform: kms:${operation} on resource: ${resource}`;
  switch (denial) {
    case "explicit-deny":
      return accessDenied(`${prefix} with an explicit deny in a resource-based policy`);
    case "no-identity-policy":
      return accessDenied(`${prefix} because no identity-based policy allows the kms:${operation} action`);
    case "no-resource-policy":
      return accessDenied(`${prefix} because no resource-based policy allows the kms:${operation} action`);
  }
}
