import { notFound } from "./errors";
import { aliasArn, keyArn, type KeyRecord, type StoreState } from "./model";
import type { Principal } from "./principals";

// Resolving the KeyId of a request to a key. KMS accepts four forms: key id, key ARN, alias
// name ("alias/...") and alias ARN; which ones an operation takes is in its reference (key
// management operations take no aliases). A bare key id or alias name is looked up in the
// caller's own account and the request's region; an ARN names its account and region. An ARN
// of another region never resolves (keys are regional), and an ARN of another account resolves
// only for operations KMS allows across accounts. Whatever does not resolve is NotFound.

const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

type KeyRef =
  | { kind: "key"; keyId: string; region?: string; accountId?: string }
  | { kind: "alias"; aliasName: string; region?: string; accountId?: string };

export type ResolveScope = {
  caller: Principal;
  region: string;
  /** Alias names and alias ARNs are accepted. */
  aliases: boolean;
  /** Key or alias ARNs of another account may be used. */
  crossAccount: boolean;
};

function parseKeyRef(value: string): KeyRef | undefined {
  if (value.startsWith("alias/")) return { kind: "alias", aliasName: value };
  const keyArnMatch = KEY_ARN.exec(value);
  if (keyArnMatch) return { kind: "key", region: keyArnMatch[1], accountId: keyArnMatch[2], keyId: keyArnMatch[3] ?? "" };
  const aliasArnMatch = ALIAS_ARN.exec(value);
  if (aliasArnMatch) return { kind: "alias", region: aliasArnMatch[1], accountId: aliasArnMatch[2], aliasName: aliasArnMatch[3] ?? "" };
  if (KEY_ID.test(value)) return { kind: "key", keyId: value };
  return undefined;
}

/** The key `value` names, as seen by `scope`; throws NotFoundException otherwise. */
export function resolveKey(state: Readonly<StoreState>, value: string, scope: ResolveScope): KeyRecord {
  const ref = parseKeyRef(value);
  if (!ref || (ref.kind === "alias" && !scope.aliases)) throw notFound(`Invalid keyId '${value}'`);
  const accountId = ref.accountId ?? scope.caller.accountId;
  const region = ref.region ?? scope.region;
  const reachable = region === scope.region && (accountId === scope.caller.accountId || scope.crossAccount);

  let keyId: string;
  if (ref.kind === "alias") {
    const arn = aliasArn(accountId, region, ref.aliasName);
    const alias = reachable ? state.aliases.get(arn) : undefined;
    if (!alias) throw notFound(`Alias '${arn}' is not found.`);
    keyId = alias.targetKeyId;
  } else {
    keyId = ref.keyId;
  }
  const arn = keyArn(accountId, region, keyId);
  const key = reachable ? state.keys.get(arn) : undefined;
  if (!key) throw notFound(`Key '${arn}' does not exist`);
  return key;
}
