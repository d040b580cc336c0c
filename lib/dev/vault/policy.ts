// Vault ACL policies in the development Vault: a subset of HCL (path blocks with a
// `capabilities` list; `#`, `//` and `/* */` comments) parsed into rules, and the decision Vault
// makes for a request: of all the rules matching the path, across every policy of the token,
// the most specific path wins (Vault's priority matching), its capabilities across policies are
// merged, and `deny` beats everything. Attributes the development Vault does not enforce
// (allowed_parameters, …) are refused rather than ignored, so a policy never grants more here
// than it would in Vault.

export const CAPABILITIES = ["create", "read", "update", "patch", "delete", "list", "sudo", "deny"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export type PolicyRule = { path: string; capabilities: Capability[] };

export class PolicyParseError extends Error {}

type Token = { kind: "word" | "string" | "punct"; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "#" || text.startsWith("//", i)) i = endOf(text, "\n", i);
    else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new PolicyParseError("unterminated /* comment");
      i = end + 2;
    } else if (c === '"') {
      let value = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\n") throw new PolicyParseError("unterminated string");
        if (text[i] === "\\") i++;
        value += text[i++] ?? "";
      }
      if (i >= text.length) throw new PolicyParseError("unterminated string");
      i++;
      tokens.push({ kind: "string", value });
    } else if ("{}[]=,".includes(c)) {
      tokens.push({ kind: "punct", value: c });
      i++;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
      if (!match) throw new PolicyParseError(`unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: "word", value: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

function endOf(text: string, marker: string, from: number): number {
  const end = text.indexOf(marker, from);
  return end < 0 ? text.length : end + 1;
}

/** Parses a policy's HCL text; throws PolicyParseError saying what is wrong. */
export function parsePolicy(text: string): PolicyRule[] {
  const tokens = tokenize(text);
  let at = 0;
  const next = (): Token => {
    const token = tokens[at++];
    if (!token) throw new PolicyParseError("unexpected end of policy");
    return token;
  };
  const expect = (value: string) => {
    const token = next();
    if (token.kind !== "punct" || token.value !== value) throw new PolicyParseError(`expected "${value}", found ${JSON.stringify(token.value)}`);
  };
  const rules: PolicyRule[] = [];
  while (at < tokens.length) {
    const keyword = next();
    if (keyword.kind !== "word" || keyword.value !== "path") throw new PolicyParseError(`expected a path block, found ${JSON.stringify(keyword.value)}`);
    const pathToken = next();
    if (pathToken.kind !== "string") throw new PolicyParseError("a path block needs a quoted path");
    checkPattern(pathToken.value);
    expect("{");
    let capabilities: Capability[] | undefined;
    for (let token = next(); !(token.kind === "punct" && token.value === "}"); token = next()) {
      if (token.kind !== "word") throw new PolicyParseError(`expected an attribute, found ${JSON.stringify(token.value)}`);
      if (token.value !== "capabilities") throw new PolicyParseError(`the development Vault does not support the attribute ${token.value}`);
      expect("=");
      capabilities = parseList(next);
    }
    if (!capabilities) throw new PolicyParseError(`path "${pathToken.value}" has no capabilities`);
    rules.push({ path: pathToken.value, capabilities });
  }
  return rules;
}

function parseList(next: () => Token): Capability[] {
  const open = next();
  if (open.kind !== "punct" || open.value !== "[") throw new PolicyParseError("capabilities must be a list");
  const values: Capability[] = [];
  for (let token = next(); !(token.kind === "punct" && token.value === "]"); token = next()) {
    if (token.kind === "punct" && token.value === ",") continue;
    if (token.kind !== "string" || !(CAPABILITIES as readonly string[]).includes(token.value)) {
      throw new PolicyParseError(`invalid capability ${JSON.stringify(token.value)}`);
    }
    values.push(token.value as Capability);
  }
  return values;
}

function checkPattern(pattern: string): void {
  const body = pattern.endsWith("*") ? pattern.slice(0, -1) : pattern;
  if (body.includes("*")) throw new PolicyParseError(`path "${pattern}": * is allowed only at the end`);
  if (body.split("/").some((segment) => segment.includes("+") && segment !== "+")) {
    throw new PolicyParseError(`path "${pattern}": + must be a whole path segment`);
  }
}

/** Whether `pattern` (with + segments and a trailing * glob) matches `path`. */
export function patternMatches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const patternSegments = (glob ? pattern.slice(0, -1) : pattern).split("/");
  const pathSegments = path.split("/");
  if (!glob && patternSegments.length !== pathSegments.length) return false;
  if (pathSegments.length < patternSegments.length) return false;
  for (let i = 0; i < patternSegments.length; i++) {
    const want = patternSegments[i]!;
    const have = pathSegments[i]!;
    const last = i === patternSegments.length - 1;
    if (want === "+") {
      if (have === "") return false;
    } else if (glob && last) {
      if (!have.startsWith(want)) return false;
    } else if (want !== have) return false;
  }
  return true;
}

function firstWildcard(pattern: string): number {
  const indices = [pattern.indexOf("+"), pattern.endsWith("*") ? pattern.length - 1 : -1].filter((i) => i >= 0);
  return indices.length === 0 ? Infinity : Math.min(...indices);
}

/** Vault's priority matching: positive when `a` is more specific than `b`. */
export function comparePriority(a: string, b: string): number {
  const wildcard = firstWildcard(a) - firstWildcard(b);
  if (wildcard !== 0) return wildcard;
  const globA = a.endsWith("*") ? 1 : 0;
  const globB = b.endsWith("*") ? 1 : 0;
  if (globA !== globB) return globB - globA;
  const plus = (p: string) => p.split("/").filter((s) => s === "+").length;
  if (plus(a) !== plus(b)) return plus(b) - plus(a);
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The capabilities a set of policies' rules grant on `path` (empty: none). */
export function capabilitiesOn(rules: readonly PolicyRule[], path: string): Set<Capability> {
  let best: string | undefined;
  for (const rule of rules) {
    if (patternMatches(rule.path, path) && (best === undefined || comparePriority(rule.path, best) > 0)) best = rule.path;
  }
  if (best === undefined) return new Set();
  const granted = new Set(rules.filter((rule) => rule.path === best).flatMap((rule) => rule.capabilities));
  return granted.has("deny") ? new Set(["deny"]) : granted;
}

/** Vault's built-in `default` policy, the part the development Vault serves. */
export const DEFAULT_POLICY = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
`;
