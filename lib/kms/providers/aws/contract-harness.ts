import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  DEV_KMS_ACCOUNT_ID,
  DEV_KMS_CUSTOMER_ADMIN,
  DEV_KMS_PRINCIPALS,
  DEV_KMS_REGION,
  DEV_KMS_ROLES,
  DEV_KMS_VENDOR,
  devKmsClientConfig,
  devKmsVendorCredentialSettings,
} from "@/lib/dev/kms/defaults";
import { startDevKms } from "@/lib/dev/kms/server";
import { setKmsClientForTests } from "@/lib/kms/clients";
import type { ContractKey, KmsContractHarness } from "@/lib/kms/contract-harness";
import { createAwsKmsApi, DEFAULT_AWS_KMS_CONFIG } from "./client";
import { awsCredentials } from "./credentials";
import { keyPolicyAdmitting } from "./instructions";
import { createAwsKmsClient } from "./kms-client";

// AWS KMS for the KMS contract suite: the development KMS (lib/dev/kms, the AWS JSON protocol
// with SigV4, key policies and IAM), reached by the real AWS provider by endpoint only.

/** A delay longer than any request timeout the contract suite sets. */
const TIMEOUT_FAULT_MS = 2_000;

export async function startAwsContractHarness(): Promise<KmsContractHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "custody-contract-aws-"));
  const kms = await startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS, roles: DEV_KMS_ROLES });
  const customer = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  const createKey = async (tenants: Array<{ tenantId: string; tenantSlug: string }>) => {
    const policy = keyPolicyAdmitting({ accountId: DEV_KMS_ACCOUNT_ID, vendorPrincipalArn: DEV_KMS_VENDOR.arn, tenants });
    const { KeyMetadata } = await customer.send(new CreateKeyCommand({ Policy: policy }));
    return { arn: KeyMetadata!.Arn! };
  };
  return {
    provider: "aws",
    configEnv: { KMS_VENDOR_PRINCIPAL_ARN: DEV_KMS_VENDOR.arn },
    useClient: ({ maxAttempts, requestTimeoutMs }) =>
      setKmsClientForTests(
        "aws",
        createAwsKmsClient(
          createAwsKmsApi({
            ...DEFAULT_AWS_KMS_CONFIG,
            partition: "aws",
            endpoint: kms.endpoint,
            // On Custody's role, assumed from the vendor's base keys through the server's STS, as production runs.
            credentials: awsCredentials(devKmsVendorCredentialSettings(kms.endpoint)),
            maxAttempts,
            requestTimeoutMs,
          }),
        ),
      ),
    keyAdmitting: (tenant) => createKey([{ tenantId: tenant.tenantId, tenantSlug: tenant.slug }]),
    keyRefusing: () => createKey([]),
    missingKey: async () => ({ arn: `arn:aws:kms:${DEV_KMS_REGION}:${DEV_KMS_ACCOUNT_ID}:key/${randomUUID()}` }),
    malformed: () => ({ key: { arn: `arn:aws:kms:${DEV_KMS_REGION}:${DEV_KMS_ACCOUNT_ID}:alias/prod` }, field: "arn" }),
    disable: async (key: ContractKey) => {
      await customer.send(new DisableKeyCommand({ KeyId: key.arn }));
    },
    enable: async (key: ContractKey) => {
      await customer.send(new EnableKeyCommand({ KeyId: key.arn }));
    },
    injectFault: (fault, times) => {
      if (fault === "throttle") kms.faults.throttleNext(times);
      else if (fault === "server_error") kms.faults.failNext(times);
      else kms.faults.delayNext(TIMEOUT_FAULT_MS, times);
    },
    clearFaults: () => kms.faults.reset(),
    stop: async () => {
      setKmsClientForTests("aws", undefined);
      customer.destroy();
      await kms.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
