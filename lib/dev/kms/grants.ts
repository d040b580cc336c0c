import { createHmac, timingSafeEqual } from "node:crypto";
import type { EncryptionContext } from "./crypto";
import { invalidGrantToken } from "./errors";
import type { GrantConstraint, GrantRecord } from "./model";
import type { Principal } from "./principals";

// Grants: what they allow, their encryption-context constraints, and grant tokens.
//
// A grant lets its grantee principal call the listed operations on one key. Constraints apply
// only to operations that take an encryption context (the cryptographic ones); a grant with a
// constraint still allows DescribeKey and RetireGrant. In a constraint, context keys match
// case-insensitively and values exactly (KMS's documented rule). A grant stops working the
// moment it is retired or revoked: there is no eventual consistency to wait out here.
//
// Grant tokens: KMS hands one out with each new grant so the grant can be used before it has
// propagated. Here grants are effective at once, so a token only identifies its grant (for
// RetireGrant) and is checked when passed in GrantTokens. A token is
// base64url(version 1 | grant id | HMAC-SHA256(token key, version | grant id)), with the token
// key derived from the master key: tokens survive restarts and cannot be forged.

/** Every operation KMS accepts in a grant. */
export const GRANT_OPERATIONS = [
  "CreateGrant",
  "Decapsulate",
  "Decrypt",
  "DeriveSharedSecret",
  "DescribeKey",
  "Encapsulate",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateMac",
  "GetPublicKey",
  "ReEncryptFrom",
  "ReEncryptTo",
  "RetireGrant",
  "Sign",
  "Verify",
  "VerifyMac",
] as const;

/** The grant operations that make sense on a symmetric encryption key (the only kind here). */
export const SYMMETRIC_KEY_GRANT_OPERATIONS: ReadonlySet<string> = new Set([
  "CreateGrant",
  "Decrypt",
  "DescribeKey",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "ReEncryptFrom",
  "ReEncryptTo",
  "RetireGrant",
]);

/** Operations that take an encryption context, to which grant constraints apply. */
const CONTEXT_OPERATIONS: ReadonlySet<string> = new Set([
  "Decrypt",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "ReEncryptFrom",
  "ReEncryptTo",
]);

/** Whether `principal` is the grantee (or, for an account grantee, a principal its IAM lets act). */
export function principalMatches(grantPrincipal: string | undefined, principal: Principal): boolean {
  if (grantPrincipal === undefined) return false;
  // A grant to a role applies to the role's sessions (AWS matches the role ARN).
  if (grantPrincipal === principal.arn || grantPrincipal === principal.principalArn) return true;
  return grantPrincipal === `arn:aws:iam::${principal.accountId}:root` && principal.admin;
}

export function constraintSatisfied(constraint: GrantConstraint | undefined, context: EncryptionContext | undefined): boolean {
  if (!constraint) return true;
  const request = lowerCaseKeys(context ?? {});
  const required = lowerCaseKeys(constraint.context);
  const allPresent = [...required].every(([key, value]) => request.get(key) === value);
  return constraint.type === "EncryptionContextSubset" ? allPresent : allPresent && request.size === required.size;
}

/** Whether `grant` lets `principal` call `operation` with this encryption context. */
export function grantAllows(grant: GrantRecord, principal: Principal, operation: string, context: EncryptionContext | undefined): boolean {
  if (!principalMatches(grant.granteePrincipal, principal) || !grant.operations.includes(operation)) return false;
  return !CONTEXT_OPERATIONS.has(operation) || constraintSatisfied(grant.constraint, context);
}

/**
 * A grant made with another grant's CreateGrant permission may allow no more than its parent:
 * a subset of its operations and an encryption-context constraint at least as strict.
 */
export function withinParentGrant(parent: GrantRecord, operations: readonly string[], constraint: GrantConstraint | undefined): boolean {
  if (!operations.every((op) => parent.operations.includes(op))) return false;
  const limit = parent.constraint;
  if (!limit) return true;
  if (!constraint) return false;
  if (limit.type === "EncryptionContextEquals") {
    return constraint.type === "EncryptionContextEquals" && constraintSatisfied(limit, constraint.context);
  }
  // Parent requires a subset: every context the child allows must contain the parent's pairs.
  return constraintSatisfied(limit, constraint.context);
}

function lowerCaseKeys(context: EncryptionContext): Map<string, string> {
  return new Map(Object.entries(context).map(([key, value]) => [key.toLowerCase(), value]));
}

const TOKEN_VERSION = 1;
const GRANT_ID_BYTES = 32;
const MAC_BYTES = 32;

export function issueGrantToken(grantId: string, tokenKey: Buffer): string {
  const body = Buffer.concat([Buffer.of(TOKEN_VERSION), Buffer.from(grantId, "hex")]);
  const mac = createHmac("sha256", tokenKey).update(body).digest();
  return Buffer.concat([body, mac]).toString("base64url");
}

/** The grant id a token stands for; InvalidGrantTokenException when it is not a token of ours. */
export function readGrantToken(token: string, tokenKey: Buffer): string {
  const bytes = Buffer.from(token, "base64url");
  const bodyLength = 1 + GRANT_ID_BYTES;
  if (bytes.length !== bodyLength + MAC_BYTES || bytes[0] !== TOKEN_VERSION || bytes.toString("base64url") !== token) {
    throw invalidGrantToken("The grant token is not valid.");
  }
  const body = bytes.subarray(0, bodyLength);
  const expected = createHmac("sha256", tokenKey).update(body).digest();
  if (!timingSafeEqual(expected, bytes.subarray(bodyLength))) throw invalidGrantToken("The grant token is not valid.");
  return body.subarray(1).toString("hex");
}

export const GRANT_ID = /^[0-9a-f]{64}$/;
