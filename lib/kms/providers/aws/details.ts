import { z } from "zod";
import type { KeyDetails, KeyRef } from "@/lib/kms/provider";
import { PARTITIONS } from "./arn";

// What Custody keeps about an AWS key beside its ARN (kms_keys.key_details): read from the ARN
// at registration, plus the grant ids the customer gave Custody (retired on revocation).

const detailsSchema = z.object({
  partition: z.enum(PARTITIONS).catch("aws"),
  region: z.string().catch(""),
  accountId: z.string().catch(""),
  multiRegion: z.boolean().catch(false),
  grantIds: z.array(z.string()).catch([]),
});

export type AwsKeyDetails = z.output<typeof detailsSchema>;

export function awsDetails(key: Pick<KeyRef, "details">): AwsKeyDetails {
  return detailsSchema.parse(key.details);
}

export function toKeyDetails(details: AwsKeyDetails): KeyDetails {
  return { ...details, grantIds: [...details.grantIds] };
}
