import { z } from "zod";

// AWS KMS key ARNs: arn:<partition>:kms:<region>:<account>:key/<key id>. Custody needs the key
// itself (an alias can be re-pointed to another key by whoever controls the account, which
// would silently change whose key protects the tenant's data), so alias ARNs are refused.

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;
export type Partition = (typeof PARTITIONS)[number];

export type KeyArn = {
  arn: string;
  partition: Partition;
  region: string;
  accountId: string;
  keyId: string;
  multiRegion: boolean;
};

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const ACCOUNT = /^\d{12}$/;
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

export class KeyArnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyArnError";
  }
}

/**
 * Parses a KMS key ARN, or throws KeyArnError with a message saying what is wrong and how
 * to find the right value. `partition` is the one this deployment's vendor principal lives in.
 */
export function parseKeyArn(input: string, partition: Partition = "aws"): KeyArn {
  const arn = input.trim();
  const parts = arn.split(":");
  if (parts.length !== 6 || parts[0] !== "arn") {
    throw new KeyArnError(
      "That is not a KMS key ARN. It looks like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (AWS console → KMS → your key → ARN).",
    );
  }
  const [, part, service, region, accountId, resource] = parts as [string, string, string, string, string, string];
  if (!(PARTITIONS as readonly string[]).includes(part)) {
    throw new KeyArnError(`"${part}" is not an AWS partition.`);
  }
  if (part !== partition) {
    throw new KeyArnError(
      `This key is in the ${part} partition; this Custody deployment works with keys in the ${partition} partition only.`,
    );
  }
  if (service !== "kms") throw new KeyArnError(`That ARN is for the ${service || "unnamed"} service, not KMS.`);
  if (!REGION.test(region)) throw new KeyArnError(`"${region}" is not an AWS region name (like us-east-1).`);
  if (!ACCOUNT.test(accountId)) throw new KeyArnError("The account id in a key ARN is 12 digits.");
  if (resource.startsWith("alias/")) {
    throw new KeyArnError(
      "That is an alias ARN. Custody needs the key's own ARN, because an alias can later be pointed at a different key. Open the alias in the KMS console and copy the ARN of the key it names.",
    );
  }
  if (!resource.startsWith("key/")) throw new KeyArnError("A KMS key ARN ends in key/<key id>.");
  const keyId = resource.slice("key/".length);
  if (!KEY_ID.test(keyId)) {
    throw new KeyArnError("The key id after key/ should be a key id like 1234abcd-12ab-34cd-56ef-1234567890ab or, for a multi-Region key, mrk-…");
  }
  return { arn, partition: part as Partition, region, accountId, keyId, multiRegion: keyId.startsWith("mrk-") };
}

/** A zod schema for forms: a trimmed, valid key ARN in the given partition. */
export function keyArnSchema(partition: Partition = "aws") {
  return z
    .string({ message: "Paste your KMS key ARN." })
    .trim()
    .min(1, "Paste your KMS key ARN.")
    .max(2048, "That is too long to be a KMS key ARN.")
    .transform((value, ctx) => {
      try {
        return parseKeyArn(value, partition);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof KeyArnError ? error.message : "That is not a KMS key ARN." });
        return z.NEVER;
      }
    });
}
