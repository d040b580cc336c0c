import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { identityDecision } from "./access";
import type { ConditionLookup } from "./conditions";
import { KmsError } from "./errors";
import { evaluateKeyPolicy } from "./policy";
import type { Principal, Role } from "./principals";
import type { Propagation } from "./propagation";
import { issueSession } from "./sessions";

// The part of AWS STS that production Custody needs, on the development KMS's port: AssumeRole
// (with the role's trust policy evaluated as IAM does, sts:ExternalId included) and
// GetCallerIdentity, in the AWS Query protocol the SDK's STS client speaks (POST /, form-encoded
// Action=…&Version=2011-06-15, XML answers). Callers sign for the "sts" service; the sessions
// it issues (sessions.ts) then work on the KMS API as the role: their ARN is
// arn:aws:sts::<account>:assumed-role/<role>/<session>, and key policies, grants and
// aws:PrincipalArn see the role's ARN.

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const DEFAULT_DURATION_SECONDS = 3600;
/** AWS limits a session that assumes another role ("role chaining") to one hour. */
const CHAINED_MAX_SECONDS = 3600;

export class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

/** STS names the request-level refusals differently from KMS. */
const FROM_KMS_CODE: Record<string, [string, number]> = {
  UnrecognizedClientException: ["InvalidClientTokenId", 403],
  ExpiredTokenException: ["ExpiredToken", 400],
  InvalidSignatureException: ["SignatureDoesNotMatch", 403],
  IncompleteSignatureException: ["IncompleteSignature", 400],
  MissingAuthenticationTokenException: ["MissingAuthenticationToken", 403],
};

export function stsErrorOf(error: KmsError): StsError {
  const [code, status] = FROM_KMS_CODE[error.code] ?? [error.code, error.httpStatus];
  return new StsError(code, error.message, status);
}

/** An STS request: form-encoded and not a KMS JSON call. */
export function isStsRequest(req: IncomingMessage): boolean {
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return req.method === "POST" && req.headers["x-amz-target"] === undefined && contentType === "application/x-www-form-urlencoded";
}

export type StsContext = {
  caller: Principal;
  params: URLSearchParams;
  roles: ReadonlyMap<string, Role>;
  sessionKey: Buffer;
  /** Request time, epoch ms. */
  now: number;
  propagation: Propagation;
  requestId: string;
};

/** Runs one STS action; returns the XML answer. Throws StsError. */
export function runSts(context: StsContext): string {
  const action = context.params.get("Action");
  if (context.params.get("Version") !== "2011-06-15") throw new StsError("InvalidParameterValue", "Version must be 2011-06-15.");
  if (action === "GetCallerIdentity") return getCallerIdentity(context);
  if (action === "AssumeRole") return assumeRole(context);
  throw new StsError("InvalidAction", `Could not find operation ${action ?? "(none)"} for version 2011-06-15`);
}

function validation(member: string, constraint: string): StsError {
  return new StsError("ValidationError", `1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`);
}

function assumeRole(context: StsContext): string {
  const { caller, params, now } = context;
  const roleArn = params.get("RoleArn") ?? "";
  const sessionName = params.get("RoleSessionName") ?? "";
  const externalId = params.get("ExternalId") ?? undefined;
  if (roleArn.length < 20 || roleArn.length > 2048) throw validation("roleArn", "Member must have length between 20 and 2048");
  if (!SESSION_NAME.test(sessionName)) {
    throw validation("roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64");
  }
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    throw validation("externalId", "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224");
  }
  const role = context.roles.get(roleArn);
  // AWS answers a role that does not exist exactly as one whose trust policy refuses.
  if (!role || !trusts(role, caller, { sessionName, externalId }, context)) {
    throw new StsError("AccessDenied", `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  }
  const chained = caller.arn.startsWith("arn:aws:sts::");
  const max = chained ? Math.min(CHAINED_MAX_SECONDS, role.maxSessionSeconds) : role.maxSessionSeconds;
  const durationText = params.get("DurationSeconds");
  const duration = durationText === null ? Math.min(DEFAULT_DURATION_SECONDS, max) : Number(durationText);
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw validation("durationSeconds", "Member must have value between 900 and 43200");
  }
  if (duration > max) {
    throw validation("durationSeconds", `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${max}).`);
  }
  const session = issueSession(context.sessionKey, { roleArn, sessionName, expiresAt: now + duration * 1000 });
  return answer(
    "AssumeRole",
    context.requestId,
    `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xml(session.sessionToken)}</SessionToken><Expiration>${new Date(session.expiresAt).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><Arn>${xml(sessionArn(role, sessionName))}</Arn><AssumedRoleId>${roleId(role.arn)}:${xml(sessionName)}</AssumedRoleId></AssumedRoleUser>` +
      `<PackedPolicySize>0</PackedPolicySize>`,
  );
}

/**
 * IAM's rule for AssumeRole: no explicit Deny (trust policy or the caller's IAM policy); the
 * trust policy allows the caller (by ARN: enough within the role's account) or the caller's
 * account (then the caller's IAM policy must allow sts:AssumeRole on the role too, as it must
 * for any caller from another account).
 */
function trusts(role: Role, caller: Principal, request: { sessionName: string; externalId?: string }, context: StsContext): boolean {
  const values: Record<string, readonly string[]> = {
    "sts:rolesessionname": [request.sessionName],
    "aws:principalarn": [caller.principalArn],
    "aws:principalaccount": [caller.accountId],
    ...(request.externalId === undefined ? {} : { "sts:externalid": [request.externalId] }),
  };
  const lookup: ConditionLookup = (name) => (Object.hasOwn(values, name) ? values[name] : undefined);
  const trust = evaluateKeyPolicy(role.trustPolicy, { principal: caller, action: "sts:AssumeRole", resource: role.arn, conditions: lookup });
  if (trust.explicitDeny) return false;
  const identity = identityDecision(caller, "sts:AssumeRole", role.arn, lookup, { now: context.now, propagation: context.propagation });
  if (identity.explicitDeny) return false;
  const sameAccount = caller.accountId === role.accountId;
  if (sameAccount && trust.allowsPrincipal) return true;
  return (trust.allowsPrincipal || trust.allowsAccount) && identity.allows;
}

function getCallerIdentity({ caller, requestId }: StsContext): string {
  const session = /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(caller.arn);
  const userId = session ? `${roleId(caller.principalArn)}:${session[1]}` : `AIDA${idOf(caller.arn)}`;
  return answer("GetCallerIdentity", requestId, `<Arn>${xml(caller.arn)}</Arn><UserId>${xml(userId)}</UserId><Account>${caller.accountId}</Account>`);
}

export function sessionArn(role: Pick<Role, "accountId" | "name">, sessionName: string): string {
  return `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`;
}

function idOf(arn: string): string {
  const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...createHash("sha256").update(arn).digest().subarray(0, 17)].map((b) => BASE32[b % 32]).join("");
}

function roleId(roleArn: string): string {
  return `AROA${idOf(roleArn)}`;
}

function answer(action: string, requestId: string, result: string): string {
  return (
    `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function xml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendStsResult(res: ServerResponse, requestId: string, body: string): void {
  send(res, 200, requestId, body);
}

export function sendStsError(res: ServerResponse, requestId: string, error: StsError): void {
  const type = error.httpStatus >= 500 ? "Receiver" : "Sender";
  send(
    res,
    error.httpStatus,
    requestId,
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${xml(error.code)}</Code>` +
      `<Message>${xml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function send(res: ServerResponse, status: number, requestId: string, body: string): void {
  res.writeHead(status, { "content-type": "text/xml", "content-length": Buffer.byteLength(body), "x-amzn-requestid": requestId });
  res.end(body);
}
