import { requireIdentityPermission, requireKeyAccess } from "../access";
import { alreadyExists, invalidAliasName, invalidRequest, notFound } from "../errors";
import { resolveKey } from "../key-refs";
import { aliasArn, aliasArnOf, epochSeconds, keyArn, type AliasRecord } from "../model";
import { paginate, requireNotPendingDeletion, type Operation, type OperationContext, scopeOf } from "./context";
import { keyFromKeyId } from "./keys";

// Aliases: CreateAlias, ListAliases, DeleteAlias. An alias belongs to an account and region
// and points at a key of the same account and region. KMS authorises alias changes twice: on
// the alias (IAM policy only) and on the key (key policy), and so does this server.

const ALIAS_NAME = /^[a-zA-Z0-9:/_-]+$/;

function aliasNameOf(context: OperationContext): string {
  const name = context.fields.requiredString("AliasName", { min: 1, max: 256, pattern: ALIAS_NAME });
  if (!name.startsWith("alias/") || name.length === "alias/".length) {
    throw invalidRequest("Alias must start with the prefix \"alias/\" followed by a name.");
  }
  return name;
}

export const createAlias: Operation = (context) => {
  const { caller, region } = context;
  const aliasName = aliasNameOf(context);
  if (aliasName.startsWith("alias/aws/")) throw invalidAliasName("Alias names beginning with alias/aws/ are reserved for AWS managed keys.");
  const target = context.fields.requiredString("TargetKeyId", { min: 1, max: 2048 });
  const key = resolveKey(context.store.state, target, { caller, region, aliases: false, crossAccount: false });
  const arn = aliasArn(key.accountId, region, aliasName);
  requireIdentityPermission(caller, "CreateAlias", arn, scopeOf(context));
  requireKeyAccess(scopeOf(context), { caller, key, operation: "CreateAlias", grantable: false });
  requireNotPendingDeletion(key);
  if (context.store.state.aliases.has(arn)) throw alreadyExists(`An alias with the name ${arn} already exists`);
  const alias: AliasRecord = {
    aliasName,
    accountId: key.accountId,
    region,
    targetKeyId: key.keyId,
    createdAt: context.now,
    updatedAt: context.now,
  };
  context.store.mutate((draft) => draft.aliases.set(arn, alias));
  return undefined;
};

export const deleteAlias: Operation = (context) => {
  const { caller, region } = context;
  const arn = aliasArn(caller.accountId, region, aliasNameOf(context));
  const alias = context.store.state.aliases.get(arn);
  if (!alias) throw notFound(`Alias ${arn} is not found.`);
  requireIdentityPermission(caller, "DeleteAlias", arn, scopeOf(context));
  const key = context.store.state.keys.get(keyArn(alias.accountId, alias.region, alias.targetKeyId));
  if (key) requireKeyAccess(scopeOf(context), { caller, key, operation: "DeleteAlias", grantable: false });
  context.store.mutate((draft) => draft.aliases.delete(arn));
  return undefined;
};

export const listAliases: Operation = (context) => {
  const { caller, region } = context;
  const filterKey = context.fields.string("KeyId") === undefined ? undefined : keyFromKeyId(context, { aliases: false, crossAccount: false });
  const aliases = [...context.store.state.aliases.values()].filter(
    (a) => a.accountId === caller.accountId && a.region === region && (!filterKey || a.targetKeyId === filterKey.keyId),
  );
  const { page, ...more } = paginate(context, aliases, (a) => a.aliasName, { default: 50, max: 100 });
  requireIdentityPermission(caller, "ListAliases", "*", scopeOf(context));
  return {
    Aliases: page.map((a) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArnOf(a),
      TargetKeyId: a.targetKeyId,
      CreationDate: epochSeconds(a.createdAt),
      LastUpdatedDate: epochSeconds(a.updatedAt),
    })),
    ...more,
  };
};
