import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG } from "@/lib/kms/providers/aws/client";
import { isKmsError, type KmsErrorKind } from "@/lib/kms/errors";
import type { AwsKmsApi } from "@/lib/kms/providers/aws/types";

// The error mapping, table-tested through the real AWS SDK against error answers as AWS KMS
// (and what stands between Custody and KMS) sends them: a loopback server replays each
// recorded answer — status, headers and body — and the provider must name the right kind,
// with a plain-language message that carries nothing of the answer.

type Recorded = { status: number; contentType: string; body: string; amznErrorType?: string };

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ROLE = "arn:aws:sts::999988887777:assumed-role/custody-vendor/i-0123456789abcdef0";
const json = (type: string, message: string): Recorded => ({
  status: 400,
  contentType: "application/x-amz-json-1.1",
  body: JSON.stringify({ __type: type, message }),
});
const denied = (operation: string, reason: string) =>
  json("AccessDeniedException", `User: ${ROLE} is not authorized to perform: kms:${operation} on resource: ${KEY} ${reason}`);

const CASES: Array<{ name: string; operation: "DescribeKey" | "Decrypt" | "RetireGrant" | "GenerateDataKey"; answer: Recorded; kind: KmsErrorKind; mentions?: RegExp }> = [
  {
    name: "cross-account, the vendor role has no IAM policy for the call",
    operation: "Decrypt",
    answer: denied("Decrypt", "because no identity-based policy allows the kms:Decrypt action"),
    kind: "access_denied_vendor",
    mentions: /kms:Decrypt\. This is on the vendor/,
  },
  {
    name: "the vendor role's IAM policy denies the call",
    operation: "GenerateDataKey",
    answer: denied("GenerateDataKey", "with an explicit deny in an identity-based policy"),
    kind: "access_denied_vendor",
  },
  {
    name: "an SCP in the vendor's organisation denies the call",
    operation: "Decrypt",
    answer: denied("Decrypt", "with an explicit deny in a service control policy"),
    kind: "access_denied_vendor",
  },
  {
    name: "the vendor's VPC endpoint policy does not allow the call",
    operation: "Decrypt",
    answer: denied("Decrypt", "because no VPC endpoint policy allows the kms:Decrypt action"),
    kind: "access_denied_vendor",
  },
  {
    name: "the customer's key policy has no statement (and no grant) for the vendor",
    operation: "DescribeKey",
    answer: denied("DescribeKey", "because no resource-based policy allows the kms:DescribeKey action"),
    kind: "access_denied",
    mentions: /^Your key policy \(or grant\) does not allow Custody's AWS principal to call kms:DescribeKey/,
  },
  {
    name: "the customer's key policy denies the vendor explicitly",
    operation: "Decrypt",
    answer: denied("Decrypt", "with an explicit deny in a resource-based policy"),
    kind: "access_denied_explicit",
  },
  {
    name: "an older denial that names no side",
    operation: "Decrypt",
    answer: json("AccessDeniedException", `User: ${ROLE} is not authorized to perform: kms:Decrypt on resource: ${KEY}`),
    kind: "access_denied",
  },
  {
    name: "a grant that is no longer on the key",
    operation: "RetireGrant",
    answer: json("NotFoundException", "Grant id 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef not found"),
    kind: "grant_not_found",
  },
  { name: "a key that does not exist", operation: "DescribeKey", answer: json("NotFoundException", `Key '${KEY}' does not exist`), kind: "not_found" },
  {
    name: "an account quota (LimitExceededException), which is not throttling",
    operation: "GenerateDataKey",
    answer: json("LimitExceededException", "The request was rejected because a quota was exceeded."),
    kind: "quota",
    mentions: /Waiting will not help/,
  },
  { name: "throttling", operation: "Decrypt", answer: json("ThrottlingException", "Rate exceeded"), kind: "throttled" },
  {
    name: "an HTML 403 page from a proxy or firewall",
    operation: "Decrypt",
    answer: { status: 403, contentType: "text/html", body: "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Request blocked by policy.</p></body></html>" },
    kind: "bad_response",
  },
  {
    name: "a plain-text 400 that is not JSON",
    operation: "DescribeKey",
    answer: { status: 400, contentType: "text/plain", body: "Bad Request" },
    kind: "bad_response",
  },
  {
    name: "an empty 404 from something that is not KMS",
    operation: "DescribeKey",
    answer: { status: 404, contentType: "text/html", body: "" },
    kind: "bad_response",
  },
  {
    name: "an HTML 502 from a load balancer",
    operation: "Decrypt",
    answer: { status: 502, contentType: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>" },
    kind: "unreachable",
  },
  { name: "the key is disabled", operation: "Decrypt", answer: json("DisabledException", `${KEY} is disabled.`), kind: "key_disabled" },
  {
    name: "expired session credentials",
    operation: "Decrypt",
    answer: json("ExpiredTokenException", "The security token included in the request is expired"),
    kind: "credentials",
  },
];

let server: Server;
let provider: AwsKmsApi;
let answer: Recorded = CASES[0]!.answer;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(answer.status, { "content-type": answer.contentType, "x-amzn-requestid": "00000000-0000-4000-8000-000000000000" });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  provider = createAwsKmsApi({
    ...DEFAULT_AWS_KMS_CONFIG,
    partition: "aws",
    endpoint: `http://127.0.0.1:${port}`,
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIAEXAMPLEEXAMPLE12", secretAccessKey: "example-secret-example-secret" },
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function call(operation: (typeof CASES)[number]["operation"]): Promise<unknown> {
  switch (operation) {
    case "DescribeKey":
      return provider.describeKey(KEY);
    case "Decrypt":
      return provider.decrypt(KEY, Buffer.alloc(64, 1), { tenant_id: "t" });
    case "GenerateDataKey":
      return provider.generateDataKey(KEY, { tenant_id: "t" });
    case "RetireGrant":
      return provider.retireGrant(KEY, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  }
}

describe("recorded KMS error answers map to their own plain-language kind", () => {
  it.each(CASES)("$name → $kind", async ({ operation, answer: recorded, kind, mentions }) => {
    answer = recorded;
    const error = await call(operation).then(
      () => {
        throw new Error("expected the call to fail");
      },
      (e: unknown) => e,
    );
    expect(isKmsError(error)).toBe(true);
    if (!isKmsError(error)) return;
    expect(error.kind).toBe(kind);
    expect(error.operation).toBe(operation);
    if (mentions) expect(error.message).toMatch(mentions);
    // Nothing of the answer reaches the message: no principal, key, account or page text.
    for (const leak of [ROLE, KEY, "999988887777", "Forbidden", "Bad Gateway", "quota was exceeded", "Rate exceeded", "<html"]) {
      expect(error.message).not.toContain(leak);
    }
  });
});
