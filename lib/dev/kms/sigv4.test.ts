import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import type { Principal } from "./principals";
import { authenticate, NodeSha256, staticCallers, type SignedRequest } from "./sigv4";

const principal: Principal = {
  accessKeyId: "AKIATESTPRINCIPAL000",
  secretAccessKey: "test-secret-access-key-0000",
  arn: "arn:aws:iam::111122223333:role/test",
  principalArn: "arn:aws:iam::111122223333:role/test",
  accountId: "111122223333",
  admin: false,
};
const principals = staticCallers(new Map([[principal.accessKeyId, principal]]));
const NOW = new Date("2030-01-02T03:04:05Z");

type SignOptions = { secret?: string; accessKeyId?: string; sessionToken?: string; date?: Date; region?: string; service?: string; body?: string; unsigned?: string[] };

/** Signs a KMS request the way the AWS SDK does and returns it as the server receives it. */
async function signedRequest(options: SignOptions = {}): Promise<SignedRequest> {
  const body = options.body ?? '{"KeyId":"alias/x"}';
  const signer = new SignatureV4({
    service: options.service ?? "kms",
    region: options.region ?? "us-east-1",
    credentials: { accessKeyId: options.accessKeyId ?? principal.accessKeyId, secretAccessKey: options.secret ?? principal.secretAccessKey, sessionToken: options.sessionToken },
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4566,
      path: "/",
      query: {},
      headers: { host: "127.0.0.1:4566", "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.DescribeKey" },
      body,
    },
    { signingDate: options.date ?? NOW, unsignableHeaders: new Set(options.unsigned ?? []) },
  );
  const headers: SignedRequest["headers"] = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = [value];
  return { method: "POST", url: "/", headers, body: Buffer.from(body) };
}

const refusal = (code: string) => expect.objectContaining({ code });

describe("SigV4 verification", () => {
  it("accepts a request signed as the SDK signs it, and returns the caller and region", async () => {
    await expect(authenticate(await signedRequest({ region: "eu-west-1" }), principals, NOW)).resolves.toEqual({ principal, region: "eu-west-1" });
  });

  it("refuses a wrong secret, an unknown key, and a missing or malformed header", async () => {
    await expect(authenticate(await signedRequest({ secret: "another-secret-entirely" }), principals, NOW)).rejects.toThrow(refusal("InvalidSignatureException"));
    await expect(authenticate(await signedRequest({ accessKeyId: "AKIANOBODY0000000000" }), principals, NOW)).rejects.toThrow(refusal("UnrecognizedClientException"));
    const unsigned = await signedRequest();
    delete unsigned.headers.authorization;
    await expect(authenticate(unsigned, principals, NOW)).rejects.toThrow(refusal("MissingAuthenticationTokenException"));
    const malformed = await signedRequest();
    malformed.headers.authorization = ["AWS4-HMAC-SHA256 Credential=x"];
    await expect(authenticate(malformed, principals, NOW)).rejects.toThrow(refusal("IncompleteSignatureException"));
  });

  it("refuses a changed body, target or declared payload hash", async () => {
    const body = await signedRequest();
    await expect(authenticate({ ...body, body: Buffer.from('{"KeyId":"alias/y"}') }, principals, NOW)).rejects.toThrow(refusal("InvalidSignatureException"));
    const target = await signedRequest();
    target.headers["x-amz-target"] = ["TrentService.ScheduleKeyDeletion"];
    await expect(authenticate(target, principals, NOW)).rejects.toThrow(refusal("InvalidSignatureException"));
    const hash = await signedRequest();
    hash.headers["x-amz-content-sha256"] = ["0".repeat(64)];
    await expect(authenticate(hash, principals, NOW)).rejects.toThrow(refusal("InvalidSignatureException"));
  });

  it("requires the operation header to be signed", async () => {
    await expect(authenticate(await signedRequest({ unsigned: ["x-amz-target"] }), principals, NOW)).rejects.toThrow(/x-amz-target/);
  });

  it("refuses a signature more than 15 minutes off, or scoped to another service", async () => {
    const old = await signedRequest({ date: new Date(NOW.getTime() - 16 * 60_000) });
    await expect(authenticate(old, principals, NOW)).rejects.toThrow(/Signature expired/);
    const future = await signedRequest({ date: new Date(NOW.getTime() + 16 * 60_000) });
    await expect(authenticate(future, principals, NOW)).rejects.toThrow(/not yet current/);
    await expect(authenticate(await signedRequest({ date: new Date(NOW.getTime() - 14 * 60_000) }), principals, NOW)).resolves.toBeDefined();
    await expect(authenticate(await signedRequest({ service: "s3" }), principals, NOW)).rejects.toThrow(/correct service/);
  });

  it("refuses a session token beside a long-term key, and a session token left out of the signature", async () => {
    await expect(authenticate(await signedRequest({ sessionToken: "some-token" }), principals, NOW)).rejects.toThrow(refusal("UnrecognizedClientException"));
    const anyToken = () => principal;
    await expect(authenticate(await signedRequest({ sessionToken: "some-token" }), anyToken, NOW)).resolves.toBeDefined();
    await expect(authenticate(await signedRequest({ sessionToken: "some-token", unsigned: ["x-amz-security-token"] }), anyToken, NOW)).rejects.toThrow(
      /x-amz-security-token/,
    );
  });
});
