import { randomBytes } from "node:crypto";
import { decideKeyAccess, denied, requireKeyAccess } from "../access";
import type { EncryptionContext } from "../crypto";
import { invalidGrantId, invalidRequest, notFound, unsupported, validation } from "../errors";
import type { Fields } from "../fields";
import {
  GRANT_ID,
  GRANT_OPERATIONS,
  grantAllows,
  issueGrantToken,
  principalMatches,
  readGrantToken,
  SYMMETRIC_KEY_GRANT_OPERATIONS,
  withinParentGrant,
} from "../grants";
import { resolveKey } from "../key-refs";
import { epochSeconds, keyArnOf, type GrantConstraint, type GrantRecord, type KeyRecord } from "../model";
import { accountRootArn, principalArnAccount } from "../principals";
import { checkGrantTokens, paginate, requireEnabled, stopIfDryRun, type Operation, type OperationContext, scopeOf } from "./context";
import { keyFromKeyId } from "./keys";

// Grant operations: CreateGrant, ListGrants, RetireGrant, RevokeGrant. Grants live beside the
// key they are on and are deleted with it.

const GRANT_NAME = /^[a-zA-Z0-9:/_-]+$/;
const MAX_CONSTRAINT_PAIRS = 8;
const MAX_CONSTRAINT_VALUE = 384;

function readPrincipal(fields: Fields, member: string): string | undefined {
  const value = fields.string(member, { min: 1, max: 256 });
  if (value !== undefined && principalArnAccount(value) === undefined) {
    throw validation(member, value, "Member must be the ARN of an IAM user, role, assumed role or account root");
  }
  return value;
}

function readConstraint(fields: Fields): GrantConstraint | undefined {
  const constraints = fields.object("Constraints");
  if (!constraints) return undefined;
  const subset = constraints.context("EncryptionContextSubset");
  const equals = constraints.context("EncryptionContextEquals");
  if (subset && equals) throw invalidRequest("Specify only one of EncryptionContextSubset and EncryptionContextEquals.");
  const context = subset ?? equals;
  if (!context) return undefined;
  const pairs = Object.entries(context);
  if (pairs.length > MAX_CONSTRAINT_PAIRS || pairs.some(([, value]) => value.length > MAX_CONSTRAINT_VALUE)) {
    throw invalidRequest(`A grant constraint holds at most ${MAX_CONSTRAINT_PAIRS} pairs, each value at most ${MAX_CONSTRAINT_VALUE} characters.`);
  }
  return { type: subset ? "EncryptionContextSubset" : "EncryptionContextEquals", context };
}

function sameContext(a: EncryptionContext, b: EncryptionContext): boolean {
  const aKeys = Object.keys(a);
  return aKeys.length === Object.keys(b).length && aKeys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/** CreateGrant with an existing grant's name and exactly its parameters returns that grant (KMS's idempotency). */
function sameGrant(grant: GrantRecord, wanted: Omit<GrantRecord, "grantId" | "createdAt" | "issuingAccount">): boolean {
  return (
    grant.keyArn === wanted.keyArn &&
    grant.name === wanted.name &&
    grant.granteePrincipal === wanted.granteePrincipal &&
    grant.retiringPrincipal === wanted.retiringPrincipal &&
    grant.operations.length === wanted.operations.length &&
    grant.operations.every((op) => wanted.operations.includes(op)) &&
    grant.constraint?.type === wanted.constraint?.type &&
    sameContext(grant.constraint?.context ?? {}, wanted.constraint?.context ?? {})
  );
}

export const createGrant: Operation = (context) => {
  const { fields, caller } = context;
  const key = keyFromKeyId(context, { aliases: false, crossAccount: true });
  if (fields.string("GranteeServicePrincipal") !== undefined || fields.string("RetiringServicePrincipal") !== undefined) {
    throw unsupported("Service principals are not supported by the development KMS.");
  }
  const granteePrincipal = readPrincipal(fields, "GranteePrincipal");
  if (granteePrincipal === undefined) throw validation("GranteePrincipal", undefined, "Member must not be null");
  const retiringPrincipal = readPrincipal(fields, "RetiringPrincipal");
  const operations = fields.enumList("Operations", GRANT_OPERATIONS);
  if (!operations || operations.length === 0) throw validation("Operations", operations, "Member must have length greater than or equal to 1");
  const unusable = operations.filter((op) => !SYMMETRIC_KEY_GRANT_OPERATIONS.has(op));
  if (unusable.length > 0) throw invalidRequest(`Grant operations ${unusable.join(", ")} are not valid for a symmetric encryption KMS key.`);
  const constraint = readConstraint(fields);
  const name = fields.string("Name", { min: 1, max: 256, pattern: GRANT_NAME });
  checkGrantTokens(context);

  authoriseCreateGrant(context, key, { granteePrincipal, retiringPrincipal, operations, constraint });
  requireEnabled(key);
  stopIfDryRun(context);

  const wanted = { keyArn: keyArnOf(key), name, granteePrincipal, retiringPrincipal, operations: [...new Set(operations)], constraint };
  const existing = name === undefined ? undefined : [...context.store.state.grants.values()].find((g) => sameGrant(g, wanted));
  const grant: GrantRecord = existing ?? {
    ...wanted,
    grantId: randomBytes(32).toString("hex"),
    issuingAccount: accountRootArn(caller.accountId),
    createdAt: context.now,
  };
  if (!existing) {
    context.store.mutate((draft) => draft.grants.set(grant.grantId, grant));
    context.propagation.grantCreated(grant.grantId, context.now);
  }
  return { GrantToken: issueGrantToken(grant.grantId, context.store.grantTokenKey), GrantId: grant.grantId };
};

/**
 * kms:CreateGrant comes from the key policy (evaluated with the grant's details as condition
 * keys, and its constraint as the encryption context), or from a grant to the caller that
 * includes CreateGrant, in which case the new grant may allow no more than that one.
 */
function authoriseCreateGrant(
  context: OperationContext,
  key: KeyRecord,
  grant: { granteePrincipal: string; retiringPrincipal?: string; operations: string[]; constraint?: GrantConstraint },
): void {
  const decision = decideKeyAccess(scopeOf(context), {
    caller: context.caller,
    key,
    operation: "CreateGrant",
    encryptionContext: grant.constraint?.context,
    conditionKeys: {
      "kms:grantoperations": grant.operations,
      "kms:granteeprincipal": [grant.granteePrincipal],
      ...(grant.retiringPrincipal ? { "kms:retiringprincipal": [grant.retiringPrincipal] } : {}),
      ...(grant.constraint ? { "kms:grantconstrainttype": [grant.constraint.type] } : {}),
      "kms:grantisforawsresource": ["false"],
    },
    grantable: false,
  });
  if (decision.allowed) return;
  if (decision.denial !== "explicit-deny") {
    const arn = keyArnOf(key);
    for (const parent of context.store.state.grants.values()) {
      if (
        parent.keyArn === arn &&
        grantAllows(parent, context.caller, "CreateGrant", undefined) &&
        withinParentGrant(parent, grant.operations, grant.constraint)
      ) {
        return;
      }
    }
  }
  throw denied(context.caller, "CreateGrant", keyArnOf(key), decision.denial);
}

export const listGrants: Operation = (context) => {
  const { fields } = context;
  const key = keyFromKeyId(context, { aliases: false, crossAccount: true });
  const grantId = fields.string("GrantId", { min: 1, max: 128 });
  const grantee = fields.string("GranteePrincipal", { min: 1, max: 256 });
  if (fields.string("GranteeServicePrincipal") !== undefined) throw unsupported("Service principals are not supported by the development KMS.");
  const arn = keyArnOf(key);
  const grants = [...context.store.state.grants.values()].filter(
    (g) => g.keyArn === arn && (grantId === undefined || g.grantId === grantId) && (grantee === undefined || g.granteePrincipal === grantee),
  );
  const { page, ...more } = paginate(context, grants, (g) => g.grantId, { default: 50, max: 100 });
  requireKeyAccess(scopeOf(context), {
    caller: context.caller,
    key,
    operation: "ListGrants",
    conditionKeys: { "kms:grantisforawsresource": ["false"], ...(grantee ? { "kms:granteeprincipal": [grantee] } : {}) },
    grantable: false,
  });
  return {
    Grants: page.map((g) => ({
      KeyId: g.keyArn,
      GrantId: g.grantId,
      ...(g.name !== undefined ? { Name: g.name } : {}),
      CreationDate: epochSeconds(g.createdAt),
      GranteePrincipal: g.granteePrincipal,
      ...(g.retiringPrincipal !== undefined ? { RetiringPrincipal: g.retiringPrincipal } : {}),
      IssuingAccount: g.issuingAccount,
      Operations: g.operations,
      ...(g.constraint ? { Constraints: { [g.constraint.type]: g.constraint.context } } : {}),
    })),
    ...more,
  };
};

function readGrantId(fields: Fields, required: boolean): string | undefined {
  const grantId = required ? fields.requiredString("GrantId", { min: 1, max: 128 }) : fields.string("GrantId", { min: 1, max: 128 });
  if (grantId !== undefined && !GRANT_ID.test(grantId)) throw invalidGrantId(`Invalid grant ID ${grantId}`);
  return grantId;
}

export const retireGrant: Operation = (context) => {
  const { fields, caller } = context;
  const token = fields.string("GrantToken", { min: 1, max: 8192 });
  const keyIdValue = fields.string("KeyId", { min: 1, max: 2048 });
  const grantIdValue = readGrantId(fields, false);
  let grantId: string;
  if (token !== undefined) {
    grantId = readGrantToken(token, context.store.grantTokenKey);
    if (grantIdValue !== undefined && grantIdValue !== grantId) throw invalidRequest("The GrantId does not match the grant token.");
  } else if (keyIdValue !== undefined && grantIdValue !== undefined) {
    grantId = grantIdValue;
  } else {
    throw invalidRequest("Specify a GrantToken, or both KeyId and GrantId.");
  }
  const key =
    keyIdValue === undefined
      ? undefined
      : resolveKey(context.store.state, keyIdValue, { caller, region: context.region, aliases: false, crossAccount: true });
  const grant = context.store.state.grants.get(grantId);
  if (!grant || (key && grant.keyArn !== keyArnOf(key))) throw notFound(`Grant ${grantId} does not exist`);

  // Who may retire: the retiring principal, the grantee when the grant includes RetireGrant,
  // and the account (its principals whose IAM allows it) that owns the key or issued the grant.
  const keyAccount = context.store.state.keys.get(grant.keyArn)?.accountId;
  const accountMayRetire =
    caller.admin && (caller.accountId === keyAccount || accountRootArn(caller.accountId) === grant.issuingAccount);
  const allowed =
    principalMatches(grant.retiringPrincipal, caller) ||
    (grant.operations.includes("RetireGrant") && principalMatches(grant.granteePrincipal, caller)) ||
    accountMayRetire;
  if (!allowed) throw denied(caller, "RetireGrant", grant.keyArn, "no-resource-policy");
  stopIfDryRun(context);
  context.store.mutate((draft) => draft.grants.delete(grantId));
  return undefined;
};

export const revokeGrant: Operation = (context) => {
  const key = keyFromKeyId(context, { aliases: false, crossAccount: true });
  const grantId = readGrantId(context.fields, true) ?? "";
  requireKeyAccess(scopeOf(context), {
    caller: context.caller,
    key,
    operation: "RevokeGrant",
    conditionKeys: { "kms:grantisforawsresource": ["false"] },
    grantable: false,
  });
  const grant = context.store.state.grants.get(grantId);
  if (!grant || grant.keyArn !== keyArnOf(key)) throw notFound(`Grant ${grantId} does not exist`);
  stopIfDryRun(context);
  context.store.mutate((draft) => draft.grants.delete(grantId));
  return undefined;
};
