import { describe, expect, it } from "vitest";
import { KeyArnError, keyArnSchema, parseKeyArn } from "./arn";

const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const MRK = "arn:aws:kms:us-east-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef";

function messageOf(input: string, partition?: "aws" | "aws-cn" | "aws-us-gov"): string {
  try {
    parseKeyArn(input, partition);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyArnError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${input}`);
}

describe("parseKeyArn", () => {
  it("reads region, account and key id", () => {
    expect(parseKeyArn(`  ${KEY} `)).toEqual({
      arn: KEY,
      partition: "aws",
      region: "eu-west-1",
      accountId: "111122223333",
      keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      multiRegion: false,
    });
  });

  it("accepts multi-Region keys", () => {
    expect(parseKeyArn(MRK)).toMatchObject({ multiRegion: true, keyId: "mrk-0123456789abcdef0123456789abcdef" });
  });

  it("refuses an alias ARN and says why", () => {
    expect(messageOf("arn:aws:kms:us-east-1:111122223333:alias/prod")).toMatch(/alias ARN.*pointed at a different key/);
  });

  it("refuses keys of another partition than the deployment's", () => {
    expect(messageOf(KEY.replace("arn:aws:", "arn:aws-cn:"))).toMatch(/aws-cn partition/);
    expect(parseKeyArn(KEY.replace("arn:aws:", "arn:aws-us-gov:"), "aws-us-gov").partition).toBe("aws-us-gov");
    expect(messageOf(KEY.replace("arn:aws:", "arn:azure:"))).toMatch(/not an AWS partition/);
  });

  it("names what is malformed", () => {
    expect(messageOf("1234abcd-12ab-34cd-56ef-1234567890ab")).toMatch(/not a KMS key ARN/);
    expect(messageOf(KEY.replace(":kms:", ":s3:"))).toMatch(/s3 service/);
    expect(messageOf(KEY.replace("eu-west-1", "europe"))).toMatch(/region/);
    expect(messageOf(KEY.replace("111122223333", "1111"))).toMatch(/12 digits/);
    expect(messageOf(KEY.replace("key/", "keys/"))).toMatch(/key\/<key id>/);
    expect(messageOf(`${KEY}x`)).toMatch(/key id/);
  });

  it("feeds form validation with the same messages", () => {
    const result = keyArnSchema().safeParse("arn:aws:kms:us-east-1:111122223333:alias/prod");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/alias ARN/);
    expect(keyArnSchema().parse(MRK).region).toBe("us-east-1");
  });
});
