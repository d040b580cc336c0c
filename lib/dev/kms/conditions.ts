// The Condition element of a key policy statement, with IAM's semantics for the operators
// this server supports:
//
//   String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike},
//   Arn{Equals,NotEquals,Like,NotLike}, Bool, Null,
//   each (but Null) optionally prefixed ForAnyValue: / ForAllValues: and suffixed IfExists.
//
// A block is true when every operator is true; an operator is true when every condition key
// under it is true; a key is true when the request's value matches any of the listed values.
// Condition key names are case-insensitive (IAM's rule). When the request has no value for a
// key: IfExists makes the test true, ForAllValues is true (vacuously), ForAnyValue is false,
// a negated operator (String*Not*, ArnNot*) is true and any other operator is false.
// Multi-valued keys (kms:EncryptionContextKeys) tested without a set qualifier behave as
// ForAnyValue for positive operators and as its negation for negated ones.
// Numeric, Date, IpAddress and Binary operators are not supported: a policy using them is
// refused when it is set, rather than evaluated wrongly.

/** A request's condition values by lower-case key name; undefined when the request has none. */
export type ConditionLookup = (lowerCaseKey: string) => readonly string[] | undefined;

type Matcher = (requestValue: string, policyValue: string) => boolean;

type Clause = {
  match: Matcher;
  negated: boolean;
  isNull: boolean;
  set?: "ForAnyValue" | "ForAllValues";
  ifExists: boolean;
  key: string;
  values: string[];
};

export type ConditionBlock = readonly Clause[];

const globCache = new Map<string, RegExp>();

/** IAM wildcards: `*` any run of characters, `?` any one character; everything else literal. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const cacheKey = `${ignoreCase ? "i" : "c"}${pattern}`;
  let regex = globCache.get(cacheKey);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`));
    regex = new RegExp(`^${source}$`, ignoreCase ? "is" : "s");
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, regex);
  }
  return regex.test(value);
}

/** ARN operators compare the six colon-separated parts one by one, each with wildcards. */
function arnMatch(requestValue: string, policyValue: string): boolean {
  const split = (arn: string) => {
    const parts = arn.split(":");
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
  };
  const request = split(requestValue);
  const policy = split(policyValue);
  if (!request || !policy) return false;
  return policy.every((part, i) => globMatch(part, request[i] ?? ""));
}

const OPERATORS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (a, b) => a === b, negated: false },
  StringNotEquals: { match: (a, b) => a === b, negated: true },
  StringEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: true },
  StringLike: { match: (a, b) => globMatch(b, a), negated: false },
  StringNotLike: { match: (a, b) => globMatch(b, a), negated: true },
  ArnEquals: { match: arnMatch, negated: false },
  ArnLike: { match: arnMatch, negated: false },
  ArnNotEquals: { match: arnMatch, negated: true },
  ArnNotLike: { match: arnMatch, negated: true },
  Bool: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
};

/** Parses a statement's Condition element; throws an Error saying what is wrong. */
export function parseConditionBlock(raw: unknown): ConditionBlock {
  if (raw === undefined) return [];
  if (!isPlainObject(raw)) throw new Error("Condition must be an object");
  const clauses: Clause[] = [];
  for (const [operatorName, keys] of Object.entries(raw)) {
    let name = operatorName;
    let set: Clause["set"];
    for (const qualifier of ["ForAnyValue", "ForAllValues"] as const) {
      if (name.startsWith(`${qualifier}:`)) {
        set = qualifier;
        name = name.slice(qualifier.length + 1);
      }
    }
    const ifExists = name.endsWith("IfExists");
    if (ifExists) name = name.slice(0, -"IfExists".length);
    const isNull = name === "Null";
    const operator = OPERATORS[name];
    if (!operator && !(isNull && !set && !ifExists)) {
      throw new Error(`Condition operator ${operatorName} is not supported by the development KMS`);
    }
    if (!isPlainObject(keys)) throw new Error(`Condition operator ${operatorName} must map condition keys to values`);
    for (const [key, value] of Object.entries(keys)) {
      clauses.push({
        match: operator?.match ?? (() => false),
        negated: operator?.negated ?? false,
        isNull,
        set,
        ifExists,
        key: key.toLowerCase(),
        values: conditionValues(value, `${operatorName}/${key}`),
      });
    }
  }
  return clauses;
}

export function evaluateConditionBlock(block: ConditionBlock, lookup: ConditionLookup): boolean {
  return block.every((clause) => evaluateClause(clause, lookup));
}

function evaluateClause(clause: Clause, lookup: ConditionLookup): boolean {
  const found = lookup(clause.key);
  const requestValues = found && found.length > 0 ? found : undefined;
  if (clause.isNull) {
    // "Null": "true" asks that the key be absent, "false" that it be present.
    return clause.values.some((v) => (v.toLowerCase() === "true") === (requestValues === undefined));
  }
  if (requestValues === undefined) {
    if (clause.ifExists || clause.set === "ForAllValues") return true;
    if (clause.set === "ForAnyValue") return false;
    return clause.negated;
  }
  const matchesPolicy = (value: string) => clause.values.some((policyValue) => clause.match(value, policyValue));
  if (clause.set === "ForAllValues") {
    return requestValues.every((value) => (clause.negated ? !matchesPolicy(value) : matchesPolicy(value)));
  }
  if (clause.set === "ForAnyValue") {
    return requestValues.some((value) => (clause.negated ? !matchesPolicy(value) : matchesPolicy(value)));
  }
  const anyMatch = requestValues.some(matchesPolicy);
  return clause.negated ? !anyMatch : anyMatch;
}

function conditionValues(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new Error(`Condition ${where} lists no values`);
  return list.map((item) => {
    if (typeof item === "string") return item;
    if (typeof item === "boolean" || typeof item === "number") return String(item);
    throw new Error(`Condition ${where} values must be strings, numbers or booleans`);
  });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
