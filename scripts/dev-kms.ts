// Starts the development KMS on its own:
//
//   npx tsx scripts/dev-kms.ts
//
// Environment (all optional):
//   DEV_KMS_PORT      port to listen on (default 4566)
//   DEV_KMS_HOST      interface to listen on (default 127.0.0.1: the credentials are public)
//   DEV_KMS_DATA_DIR  folder of the encrypted key store and its master key
//                     (default .custody/dev-kms)
//
// It prints the endpoint and the two development principals' credentials. Point the AWS SDK
// or CLI at it with the endpoint and region, e.g.
//   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... aws kms list-keys \
//     --endpoint-url http://127.0.0.1:4566 --region us-east-1
import { parseVariables } from "../lib/config";
import { environmentVariables } from "../lib/config/environment";
import { z } from "zod";
import {
  DEV_KMS_ACCOUNT_ID,
  DEV_KMS_CUSTOMER_ADMIN,
  DEV_KMS_DEFAULT_DATA_DIR,
  DEV_KMS_DEFAULT_PORT,
  DEV_KMS_PRINCIPALS,
  DEV_KMS_REGION,
  DEV_KMS_ROLES,
  DEV_KMS_VENDOR,
  DEV_KMS_VENDOR_RUNNER,
} from "../lib/dev/kms/defaults";
import { startDevKms } from "../lib/dev/kms/server";
import { stopOnSignals } from "../lib/server/stop-on-signals";

const envSchema = z.object({
  DEV_KMS_PORT: z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(1).max(65535).default(DEV_KMS_DEFAULT_PORT),
  DEV_KMS_HOST: z.string().trim().min(1, "must not be empty").default("127.0.0.1"),
  DEV_KMS_DATA_DIR: z.string().trim().min(1, "must not be empty").default(DEV_KMS_DEFAULT_DATA_DIR),
});

function readEnv() {
  // Values are not echoed (ConfigError names the variable only).
  return parseVariables(envSchema, environmentVariables(), { subject: "dev KMS configuration" });
}

async function main() {
  const env = readEnv();
  const kms = await startDevKms({
    port: env.DEV_KMS_PORT,
    host: env.DEV_KMS_HOST,
    dataDir: env.DEV_KMS_DATA_DIR,
    accountId: DEV_KMS_ACCOUNT_ID,
    principals: DEV_KMS_PRINCIPALS,
    roles: DEV_KMS_ROLES,
  });

  console.log(`Custody development KMS (not for production) listening: ${kms.endpoint}`);
  console.log(`  region ${DEV_KMS_REGION}, account ${DEV_KMS_ACCOUNT_ID}, data ${env.DEV_KMS_DATA_DIR}`);
  for (const [role, principal] of [
    ["vendor's base identity (own account; IAM: sts:AssumeRole on Custody's role only)", DEV_KMS_VENDOR_RUNNER],
    ["customer admin (IAM allows all of KMS)", DEV_KMS_CUSTOMER_ADMIN],
  ] as const) {
    console.log(`  ${role}: ${principal.arn}`);
    console.log(`    AWS_ACCESS_KEY_ID=${principal.accessKeyId} AWS_SECRET_ACCESS_KEY=${principal.secretAccessKey}`);
  }

  console.log(`  Custody's role (IAM: Custody's least-privilege policy; STS on this endpoint): ${DEV_KMS_VENDOR.arn}`);
  console.log(`    KMS_ROLE_ARN=${DEV_KMS_VENDOR.arn} KMS_ROLE_EXTERNAL_ID=${DEV_KMS_VENDOR.externalId} KMS_STS_ENDPOINT=${kms.endpoint}`);

  stopOnSignals("the dev KMS", () => kms.close());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
