import {
  evaluateConditionBlock,
  globMatch,
  isPlainObject,
  parseConditionBlock,
  type ConditionBlock,
  type ConditionLookup,
} from "./conditions";
import { malformedPolicy } from "./errors";
import { principalArnAccount, type Principal } from "./principals";

// Key policies: parsing (which refuses what this server could not evaluate faithfully) and
// evaluation for one request. The evaluation reports what the policy says about the caller;
// combining it with the caller's IAM permissions and with grants is access.ts's job, because
// a statement naming the account ("arn:aws:iam::<account>:root" or "<account>") does not by
// itself allow anyone: it delegates to the account's IAM policies.

export const MAX_POLICY_BYTES = 32 * 1024;

export type KeyPolicy = { statements: readonly PolicyStatement[] };

type PolicyStatement = {
  effect: "Allow" | "Deny";
  /** Principal "*" or {"AWS": "*"}. */
  anyPrincipal: boolean;
  /** IAM principal ARNs named directly. */
  principalArns: string[];
  /** Accounts named by root ARN or account id. */
  accounts: string[];
  actions: { negated: boolean; patterns: string[] };
  resources: { negated: boolean; patterns: string[] };
  conditions: ConditionBlock;
};

export type PolicyRequest = {
  principal: Principal;
  /** e.g. "kms:Decrypt" */
  action: string;
  /** The key ARN. */
  resource: string;
  conditions: ConditionLookup;
};

export type PolicyResult = {
  /** A Deny statement applies: nothing else can allow the request. */
  explicitDeny: boolean;
  /** An Allow statement names the caller's ARN, or any principal. */
  allowsPrincipal: boolean;
  /** An Allow statement names the caller's account: allowed if its IAM policies allow too. */
  allowsAccount: boolean;
};

const STATEMENT_MEMBERS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws:iam::(\d{12}):root$/;

/** Parses and validates a key policy; throws MalformedPolicyDocumentException. */
export function parseKeyPolicy(text: string): KeyPolicy {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) {
    throw malformedPolicy(`The key policy is larger than ${MAX_POLICY_BYTES} bytes.`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformedPolicy("The key policy is not valid JSON.");
  }
  try {
    return { statements: parseDocument(document, "key") };
  } catch (error) {
    throw malformedPolicy(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Parses an IAM identity-based policy (the policy attached to a user or role: statements
 * without a Principal, since they apply to whoever they are attached to). Throws an Error
 * saying what is wrong; the development KMS's configuration uses it, not a KMS operation.
 */
export function parseIdentityPolicy(document: unknown): KeyPolicy {
  const value = typeof document === "string" ? parseJson(document, "identity") : document;
  return { statements: parseDocument(value, "identity") };
}

/**
 * Parses a role's trust policy (a resource-based policy on the role: statements with a
 * Principal and no Resource, for sts:AssumeRole). Throws an Error saying what is wrong.
 */
export function parseTrustPolicy(document: unknown): KeyPolicy {
  const value = typeof document === "string" ? parseJson(document, "trust") : document;
  return { statements: parseDocument(value, "trust") };
}

function parseJson(text: string, kind: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`The ${kind} policy is not valid JSON.`);
  }
}

type PolicyKind = "key" | "identity" | "trust";

function parseDocument(document: unknown, kind: PolicyKind): PolicyStatement[] {
  if (!isPlainObject(document)) throw new Error(`The ${kind} policy must be a JSON object.`);
  for (const member of Object.keys(document)) {
    if (!["Version", "Id", "Statement"].includes(member)) throw new Error(`Unknown policy element: ${member}.`);
  }
  if (document.Version !== undefined && document.Version !== "2012-10-17" && document.Version !== "2008-10-17") {
    throw new Error("Version must be 2012-10-17 or 2008-10-17.");
  }
  const raw = document.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (statements.length === 0) throw new Error(`The ${kind} policy must have a Statement.`);
  return statements.map((statement: unknown, index: number) => parseStatement(statement, index, kind));
}

function parseStatement(raw: unknown, index: number, kind: PolicyKind): PolicyStatement {
  const identity = kind === "identity";
  const where = `Statement ${index + 1}`;
  if (!isPlainObject(raw)) throw new Error(`${where} must be an object.`);
  for (const member of Object.keys(raw)) {
    if (!STATEMENT_MEMBERS.has(member)) throw new Error(`${where} has an unknown element: ${member}.`);
  }
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny") throw new Error(`${where}: Effect must be Allow or Deny.`);
  if (raw.NotPrincipal !== undefined) throw new Error(`${where}: NotPrincipal is not supported by the development KMS.`);
  if (identity && raw.Principal !== undefined) throw new Error(`${where}: an identity-based policy statement has no Principal.`);
  if (!identity && raw.Principal === undefined) throw new Error(`${where}: a key policy statement needs a Principal.`);
  // An identity policy's statements apply to the principal it is attached to.
  const principals = identity ? { anyPrincipal: true, principalArns: [], accounts: [] } : parsePrincipal(raw.Principal, where);
  let conditions: ConditionBlock;
  try {
    conditions = parseConditionBlock(raw.Condition);
  } catch (error) {
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  return {
    effect: raw.Effect,
    ...principals,
    actions: oneOf(raw, "Action", "NotAction", where, (action) => {
      if (action !== "*" && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(action)) throw new Error(`${where}: "${action}" is not an action.`);
    }),
    // A trust policy's statements are about the role they are attached to: no Resource.
    resources:
      kind === "trust" && raw.Resource === undefined && raw.NotResource === undefined
        ? { negated: false, patterns: ["*"] }
        : oneOf(raw, "Resource", "NotResource", where, () => undefined),
    conditions,
  };
}

function parsePrincipal(raw: unknown, where: string): Pick<PolicyStatement, "anyPrincipal" | "principalArns" | "accounts"> {
  const result = { anyPrincipal: false, principalArns: [] as string[], accounts: [] as string[] };
  if (raw === "*") return { ...result, anyPrincipal: true };
  if (!isPlainObject(raw)) throw new Error(`${where}: Principal must be "*" or an object.`);
  for (const [type, value] of Object.entries(raw)) {
    const values = stringList(value, `${where}: Principal ${type}`);
    // Service principals are valid in a key policy; no caller of this server is a service.
    if (type === "Service") continue;
    if (type !== "AWS") throw new Error(`${where}: Principal type ${type} is not supported by the development KMS.`);
    for (const principal of values) {
      const root = ROOT_ARN.exec(principal);
      if (principal === "*") result.anyPrincipal = true;
      else if (ACCOUNT_ID.test(principal)) result.accounts.push(principal);
      else if (root?.[1]) result.accounts.push(root[1]);
      else if (principalArnAccount(principal)) result.principalArns.push(principal);
      else throw new Error("Policy contains a statement with one or more invalid principals.");
    }
  }
  return result;
}

function oneOf(
  raw: Record<string, unknown>,
  name: string,
  negatedName: string,
  where: string,
  check: (value: string) => void,
): { negated: boolean; patterns: string[] } {
  const has = raw[name] !== undefined;
  const hasNegated = raw[negatedName] !== undefined;
  if (has === hasNegated) throw new Error(`${where} needs exactly one of ${name} and ${negatedName}.`);
  const patterns = stringList(has ? raw[name] : raw[negatedName], `${where}: ${has ? name : negatedName}`);
  patterns.forEach(check);
  return { negated: hasNegated, patterns };
}

function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v): v is string => typeof v === "string" && v.length > 0)) {
    throw new Error(`${where} must be a non-empty string or list of strings.`);
  }
  return list;
}

/** What the key policy says about one request. */
export function evaluateKeyPolicy(policy: KeyPolicy, request: PolicyRequest): PolicyResult {
  const result: PolicyResult = { explicitDeny: false, allowsPrincipal: false, allowsAccount: false };
  for (const statement of policy.statements) {
    // A statement naming a role applies to its sessions too; one may also name a session's own ARN.
    const namesPrincipal =
      statement.anyPrincipal ||
      statement.principalArns.includes(request.principal.principalArn) ||
      statement.principalArns.includes(request.principal.arn);
    const namesAccount = statement.accounts.includes(request.principal.accountId);
    if (!namesPrincipal && !namesAccount) continue;
    if (!applies(statement, request)) continue;
    if (statement.effect === "Deny") {
      // A Deny that names an account applies to every principal of that account.
      result.explicitDeny = true;
    } else {
      result.allowsPrincipal ||= namesPrincipal;
      result.allowsAccount ||= namesAccount;
    }
  }
  return result;
}

function applies(statement: PolicyStatement, request: PolicyRequest): boolean {
  const actionListed = statement.actions.patterns.some((p) => globMatch(p, request.action, true));
  if (actionListed === statement.actions.negated) return false;
  const resourceListed = statement.resources.patterns.some((p) => globMatch(p, request.resource));
  if (resourceListed === statement.resources.negated) return false;
  return evaluateConditionBlock(statement.conditions, request.conditions);
}

/** The policy CreateKey attaches when none is given: the account's IAM policies decide (AWS's default). */
export function defaultKeyPolicy(accountId: string): string {
  const policy = {
    Version: "2012-10-17",
    Id: "key-default-1",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
  return JSON.stringify(policy, null, 2);
}
