import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  incompleteSignature,
  invalidSignature,
  missingAuthentication,
  unrecognizedClient,
} from "./errors";
import type { Principal } from "./principals";

// AWS Signature Version 4 verification. The server never trusts its own parser of the
// canonical request: it rebuilds the request the client signed (method, path, query, the
// headers listed in SignedHeaders, the body) and signs it again with @smithy/signature-v4 and
// the stored secret, then compares signatures in constant time. What is checked, as AWS does:
// the access key is known (or is a session's, with its valid, unexpired token: sessions.ts),
// the scope is <date>/<region>/<service>/aws4_request (kms, or sts for sts.ts), X-Amz-Date is
// within 15 minutes of the server clock and on the scope's date, and a supplied
// x-amz-content-sha256 is the body's real hash. Stricter than AWS: host, x-amz-date and
// x-amz-target must be signed (the SDK always signs them), so a captured request cannot be
// replayed as another operation. Like AWS, a request can be replayed within the 15 minutes.

const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = "AWS4-HMAC-SHA256";
export type SigningService = "kms" | "sts";
const REQUIRED_SIGNED_HEADERS: Record<SigningService, readonly string[]> = {
  kms: ["host", "x-amz-date", "x-amz-target"],
  sts: ["host", "x-amz-date"],
};

/** The caller an access key id (and session token, if any) stands for at `now`; throws when none. */
export type ResolveCaller = (accessKeyId: string, sessionToken: string | undefined, now: number) => Principal;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const REGION = /^[a-z]{2}(?:-[a-z0-9]+)+$/;

export type SignedRequest = {
  method: string;
  /** The request target as received (path and query, still percent-encoded). */
  url: string;
  /** Header values by lower-case name, repeated headers kept apart (IncomingMessage.headersDistinct). */
  headers: Record<string, string[] | undefined>;
  body: Buffer;
};

export type Authenticated = { principal: Principal; region: string };

type SmithyHttpRequest = Parameters<SignatureV4["presign"]>[0];

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 (or HMAC-SHA256 when given a secret) from node:crypto, in the shape the signer expects. */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** A ResolveCaller for long-term access keys only (no session tokens). */
export function staticCallers(principals: ReadonlyMap<string, Principal>): ResolveCaller {
  return (accessKeyId, sessionToken) => {
    const principal = principals.get(accessKeyId);
    // A session token names no long-term key: AWS refuses the pair.
    if (!principal || sessionToken !== undefined) throw unrecognizedClient();
    return principal;
  };
}

/** Verifies the request's SigV4 signature; returns the caller and the signed region. */
export async function authenticate(
  request: SignedRequest,
  resolveCaller: ResolveCaller,
  now: Date,
  service: SigningService = "kms",
): Promise<Authenticated> {
  const authorization = single(request.headers, "authorization");
  if (authorization === undefined) throw missingAuthentication();
  const parsed = parseAuthorization(authorization);

  const [accessKeyId, scopeDate, region, scopeService, terminator, ...extra] = parsed.credential.split("/");
  if (!accessKeyId || !scopeDate || !region || !scopeService || !terminator || extra.length > 0) {
    throw incompleteSignature(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parsed.credential}'`);
  }
  const sessionToken = single(request.headers, "x-amz-security-token");
  const principal = resolveCaller(accessKeyId, sessionToken, now.getTime());
  if (terminator !== "aws4_request") throw invalidSignature("Credential should be scoped with a valid terminator: 'aws4_request'.");
  if (scopeService !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'.`);
  if (!REGION.test(region)) throw invalidSignature("Credential should be scoped to a valid region.");

  const amzDate = single(request.headers, "x-amz-date");
  const signingDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (!amzDate || !signingDate) {
    throw incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
  }
  checkClockSkew(amzDate, signingDate, now);

  const required = [...REQUIRED_SIGNED_HEADERS[service], ...(sessionToken === undefined ? [] : ["x-amz-security-token"])];
  for (const name of required) {
    if (!parsed.signedHeaders.includes(name)) throw invalidSignature(`The '${name}' header must be signed.`);
  }
  const bodyHash = createHash("sha256").update(request.body).digest("hex");
  const declaredHash = single(request.headers, "x-amz-content-sha256");
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const expected = await expectedAuthorization(request, parsed.signedHeaders, principal, region, signingDate, service);
  const expectedSignature = Buffer.from(expected.signature, "ascii");
  const givenSignature = Buffer.from(parsed.signature, "ascii");
  const signaturesMatch =
    expectedSignature.length === givenSignature.length && timingSafeEqual(expectedSignature, givenSignature);
  if (!signaturesMatch || expected.signedHeaders.join(";") !== parsed.signedHeaders.join(";")) {
    throw invalidSignature(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return { principal, region };
}

type ParsedAuthorization = { credential: string; signedHeaders: string[]; signature: string };

function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(" ");
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw incompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.");
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) throw invalidSignature("The request signature is not a SHA-256 HMAC in lower-case hex.");
  return { credential, signedHeaders: signedHeaders.split(";"), signature };
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

function checkClockSkew(amzDate: string, signingDate: Date, now: Date): void {
  const earliest = new Date(now.getTime() - MAX_CLOCK_SKEW_MS);
  const latest = new Date(now.getTime() + MAX_CLOCK_SKEW_MS);
  // The SDK recognises these messages' exception name as a clock-skew error and, using the
  // response's Date header, corrects its clock and retries.
  if (signingDate < earliest) {
    throw invalidSignature(
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(earliest)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (signingDate > latest) {
    throw invalidSignature(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(latest)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
}

/** Signs the received request again with the stored secret; returns what the client should have sent. */
async function expectedAuthorization(
  request: SignedRequest,
  signedHeaders: readonly string[],
  principal: Principal,
  region: string,
  signingDate: Date,
  service: SigningService,
): Promise<{ signature: string; signedHeaders: string[] }> {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const values = request.headers[name];
    // A signed header that did not arrive cannot be part of a valid signature.
    if (values === undefined) throw invalidSignature(`The signed header '${name}' is missing from the request.`);
    headers[name] = values.join(",");
  }
  const url = new URL(request.url, "http://placeholder");
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const toSign: SmithyHttpRequest = {
    method: request.method,
    protocol: "http:",
    hostname: headers.host ?? "",
    path: decodePath(url.pathname),
    query,
    headers,
    body: request.body,
  };
  const signer = new SignatureV4({
    service,
    region,
    credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
    sha256: NodeSha256,
    // Only what the client signed is signed again: no checksum header is added here.
    applyChecksum: false,
  });
  const signed = await signer.sign(toSign, {
    signingDate,
    signingRegion: region,
    signingService: service,
    // Keep every header the client listed, including ones the signer would otherwise skip.
    signableHeaders: new Set(signedHeaders),
  });
  const authorization = signed.headers.authorization ?? "";
  const result = parseAuthorization(authorization);
  return { signature: result.signature, signedHeaders: result.signedHeaders };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw invalidSignature("The request path is not valid percent-encoding.");
  }
}

function single(headers: SignedRequest["headers"], name: string): string | undefined {
  const values = headers[name];
  return values === undefined ? undefined : values.join(",");
}
