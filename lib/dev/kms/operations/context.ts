import { disabled, dryRunSucceeded, invalidMarker, invalidState } from "../errors";
import type { Fields } from "../fields";
import { readGrantToken } from "../grants";
import { keyArnOf, type KeyRecord } from "../model";
import type { Principal } from "../principals";
import type { AccessScope } from "../access";
import type { Propagation } from "../propagation";
import type { KeyStore } from "../store";

// What every operation receives, and the checks several of them share.

export type OperationContext = {
  /** The one account whose keys this server holds. */
  accountId: string;
  caller: Principal;
  /** The region the request was signed for: keys, aliases and grants live in one region. */
  region: string;
  fields: Fields;
  store: KeyStore;
  /** Request time, epoch milliseconds. */
  now: number;
  /** Changes not yet in effect (propagation.ts). */
  propagation: Propagation;
};

/** What access decisions (access.ts) read from an operation's context. */
export function scopeOf(context: OperationContext): AccessScope {
  return { state: context.store.state, now: context.now, propagation: context.propagation };
}

/** A JSON response body, or undefined for operations that return nothing. */
export type OperationOutput = Record<string, unknown> | undefined;
export type Operation = (context: OperationContext) => OperationOutput;

/** Cryptographic operations need an Enabled key (KMS's key state table). */
export function requireEnabled(key: KeyRecord): void {
  if (key.state === "Disabled") throw disabled(`${keyArnOf(key)} is disabled.`);
  if (key.state === "PendingDeletion") throw invalidState(`${keyArnOf(key)} is pending deletion.`);
}

export function requireNotPendingDeletion(key: KeyRecord): void {
  if (key.state === "PendingDeletion") throw invalidState(`${keyArnOf(key)} is pending deletion.`);
}

/**
 * GrantTokens: grants take effect at once here, so tokens add no permission, but each one
 * must be a token this server issued (InvalidGrantTokenException otherwise), as in KMS.
 */
export function checkGrantTokens(context: OperationContext): void {
  const tokens = context.fields.stringList("GrantTokens", { maxItems: 10, item: { min: 1, max: 8192 } });
  for (const token of tokens ?? []) readGrantToken(token, context.store.grantTokenKey);
}

/** DryRun: once every check has passed, report success instead of acting. */
export function stopIfDryRun(context: OperationContext): void {
  if (context.fields.boolean("DryRun") === true) throw dryRunSucceeded();
}

/**
 * One page of a listing, ordered by id. The marker is the (encoded) id of the last item
 * returned and the next page starts after it, so paging stays consistent when items are
 * added or removed between calls.
 */
export function paginate<T>(
  context: OperationContext,
  items: readonly T[],
  idOf: (item: T) => string,
  limits: { default: number; max: number },
): { page: T[]; NextMarker?: string; Truncated: boolean } {
  const limit = context.fields.integer("Limit", { min: 1, max: limits.max }) ?? limits.default;
  const marker = context.fields.string("Marker", { min: 1, max: 1024 });
  const sorted = [...items].sort((a, b) => compare(idOf(a), idOf(b)));
  let start = 0;
  if (marker !== undefined) {
    const after = Buffer.from(marker, "base64url").toString("utf8");
    if (after.length === 0 || Buffer.from(after, "utf8").toString("base64url") !== marker) {
      throw invalidMarker("The marker is not valid for this listing.");
    }
    start = sorted.findIndex((item) => compare(idOf(item), after) > 0);
    if (start === -1) start = sorted.length;
  }
  const page = sorted.slice(start, start + limit);
  const last = page.at(-1);
  return start + limit < sorted.length && last !== undefined
    ? { page, NextMarker: Buffer.from(idOf(last), "utf8").toString("base64url"), Truncated: true }
    : { page, Truncated: false };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
