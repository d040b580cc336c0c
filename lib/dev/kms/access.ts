import type { ConditionLookup } from "./conditions";
import type { EncryptionContext } from "./crypto";
import { accessDenied } from "./errors";
import { grantAllows } from "./grants";
import { keyArnOf, type KeyRecord, type StoreState } from "./model";
import { evaluateKeyPolicy, parseKeyPolicy, type KeyPolicy } from "./policy";
import type { Principal } from "./principals";
import type { Propagation } from "./propagation";

// Authorisation of a request on a key, as KMS decides it:
//
// 1. A Deny statement that applies to the request, in the key policy or in the caller's
//    identity (IAM) policy, refuses it. Nothing overrides an explicit deny, grants included.
// 2. The key policy allows it when an Allow statement applies and names
//    - the caller's ARN or "*": enough on its own for a caller of the key's account; or
//    - the caller's account: then the caller's identity policy must allow it too.
//    A caller from another account always needs its own identity policy to allow it as well.
//    (principals.ts: `admin` allows every KMS action; `identityPolicy` is evaluated.)
// 3. Otherwise a grant on the key to the caller, for this operation, whose constraint the
//    request's encryption context satisfies, allows it, for the operations grants can cover.
//    A grant to a principal needs no identity policy, across accounts too (AWS: the grantee
//    can use the permissions a grant gives without IAM permission for them).
// 4. Otherwise AccessDeniedException, worded as AWS words it, naming the side that refused.
//
// Changes propagate as in AWS when a delay is set (propagation.ts): for a while after a
// change, the previous key policy and identity policy still decide, and a new grant allows
// nothing yet.

/** What access decisions read besides the request: the store, the time, pending changes. */
export type AccessScope = { state: Readonly<StoreState>; now: number; propagation?: Propagation };

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

type Denial = "explicit-deny" | "explicit-deny-identity" | "no-resource-policy" | "no-identity-policy";
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
    "aws:principalarn": [request.caller.principalArn],
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

/** What the caller's identity (IAM) policy says about an action on a resource. */
export function identityDecision(
  caller: Principal,
  action: string,
  resource: string,
  conditions: ConditionLookup,
  scope?: Pick<AccessScope, "now" | "propagation">,
): { allows: boolean; explicitDeny: boolean } {
  if (caller.admin) return { allows: true, explicitDeny: false };
  const policy = scope?.propagation ? scope.propagation.identityAt(caller.principalArn, caller.identityPolicy, scope.now) : caller.identityPolicy;
  if (!policy) return { allows: false, explicitDeny: false };
  const result = evaluateKeyPolicy(policy, { principal: caller, action, resource, conditions });
  return { allows: !result.explicitDeny && result.allowsPrincipal, explicitDeny: result.explicitDeny };
}

/** Whether the key policy and the caller's identity policy (no grants) let the caller do this. */
export function keyPolicyAllows(
  policy: KeyPolicy,
  request: Omit<KeyAccessRequest, "grantable">,
  scope?: Pick<AccessScope, "now" | "propagation">,
): AccessDecision {
  const action = `kms:${request.operation}`;
  const resource = keyArnOf(request.key);
  const conditions = conditionLookup(request);
  const result = evaluateKeyPolicy(policy, { principal: request.caller, action, resource, conditions });
  if (result.explicitDeny) return { allowed: false, denial: "explicit-deny" };
  const identity = identityDecision(request.caller, action, resource, conditions, scope);
  if (identity.explicitDeny) return { allowed: false, denial: "explicit-deny-identity" };
  const sameAccount = request.caller.accountId === request.key.accountId;
  const allowed = sameAccount
    ? result.allowsPrincipal || (result.allowsAccount && identity.allows)
    : (result.allowsPrincipal || result.allowsAccount) && identity.allows;
  if (allowed) return { allowed: true, via: "policy" };
  const onlyIamMissing = !sameAccount && (result.allowsPrincipal || result.allowsAccount);
  return { allowed: false, denial: onlyIamMissing ? "no-identity-policy" : "no-resource-policy" };
}

export function decideKeyAccess(scope: AccessScope, request: KeyAccessRequest): AccessDecision {
  const arn = keyArnOf(request.key);
  const policyText = scope.propagation ? scope.propagation.keyPolicyAt(arn, request.key.policy, scope.now) : request.key.policy;
  const byPolicy = keyPolicyAllows(cachedPolicy(policyText), request, scope);
  if (byPolicy.allowed || byPolicy.denial === "explicit-deny" || byPolicy.denial === "explicit-deny-identity" || !request.grantable) {
    return byPolicy;
  }
  for (const grant of scope.state.grants.values()) {
    if (
      grant.keyArn === arn &&
      grantAllows(grant, request.caller, request.operation, request.encryptionContext) &&
      (!scope.propagation || scope.propagation.grantEffective(grant.grantId, scope.now))
    ) {
      return { allowed: true, via: "grant" };
    }
  }
  return byPolicy;
}

/** Throws AccessDeniedException unless the caller may perform the operation on the key. */
export function requireKeyAccess(scope: AccessScope, request: KeyAccessRequest): void {
  const decision = decideKeyAccess(scope, request);
  if (!decision.allowed) throw denied(request.caller, request.operation, keyArnOf(request.key), decision.denial);
}

/**
 * For operations KMS authorises with IAM policies only (CreateKey, ListKeys, ListAliases, the
 * alias half of CreateAlias): allowed when the caller's identity policy allows the action.
 */
export function requireIdentityPermission(
  caller: Principal,
  operation: string,
  resource: string,
  scope?: Pick<AccessScope, "now" | "propagation">,
): void {
  const lookup: ConditionLookup = (name) =>
    name === "kms:calleraccount" || name === "aws:principalaccount" ? [caller.accountId] : name === "aws:principalarn" ? [caller.principalArn] : undefined;
  const decision = identityDecision(caller, `kms:${operation}`, resource, lookup, scope);
  if (!decision.allows) throw denied(caller, operation, resource, decision.explicitDeny ? "explicit-deny-identity" : "no-identity-policy");
}

export function denied(caller: Principal, operation: string, resource: string, denial: Denial) {
  const prefix = `User: ${caller.arn} is not authorized to perform: kms:${operation} on resource: ${resource}`;
  switch (denial) {
    case "explicit-deny":
      return accessDenied(`${prefix} with an explicit deny in a resource-based policy`);
    case "explicit-deny-identity":
      return accessDenied(`${prefix} with an explicit deny in an identity-based policy`);
    case "no-identity-policy":
      return accessDenied(`${prefix} because no identity-based policy allows the kms:${operation} action`);
    case "no-resource-policy":
      return accessDenied(`${prefix} because no resource-based policy allows the kms:${operation} action`);
  }
}
