import { devGcpCustomer, ENCRYPTER_DECRYPTER, VIEWER } from "@/lib/dev/gcp-kms/customer";
import { DEV_GCP_CUSTOMER_PROJECT, DEV_GCP_LOCATION, DEV_GCP_VENDOR_EMAIL, makeDevGcpKeys } from "@/lib/dev/gcp-kms/defaults";
import { startDevGcpKms } from "@/lib/dev/gcp-kms/server";
import { setKmsClientForTests } from "@/lib/kms/clients";
import type { ContractKey, KmsContractHarness } from "@/lib/kms/contract-harness";
import { createGcpKms, type GcpKms } from "./client";
import { createGcpKmsClient } from "./kms-client";

// Google Cloud KMS for the KMS contract suite: the development Cloud KMS (lib/dev/gcp-kms,
// Cloud KMS v1 REST with service-account JWTs and IAM per key), reached by @google-cloud/kms
// by endpoint only, as Custody's service account. "Disabled" is the key's primary version
// disabled. A key that does not exist is answered PERMISSION_DENIED to a caller without access
// to it, as Cloud KMS does.

/** A delay longer than any request timeout the contract suite sets. */
const TIMEOUT_FAULT_MS = 2_000;
const RING = "contract";

export async function startGcpContractHarness(): Promise<KmsContractHarness> {
  const keys = makeDevGcpKeys();
  const server = await startDevGcpKms({ port: 0, serviceAccounts: keys.accounts });
  const customer = devGcpCustomer(server.endpoint, keys.admin);
  const apis: GcpKms[] = [];
  let count = 0;
  const newKey = async (roles: readonly string[]): Promise<ContractKey> => {
    const name = await customer.createKey(RING, `key-${++count}`);
    await customer.grantVendor(name, roles);
    return { name };
  };
  return {
    provider: "gcp",
    configEnv: { GCP_KMS_SERVICE_ACCOUNT: DEV_GCP_VENDOR_EMAIL },
    missingKeyKinds: ["access_denied", "not_found"],
    useClient: ({ maxAttempts, requestTimeoutMs }) => {
      const api = createGcpKms({ credentials: keys.vendor, endpoint: server.endpoint, maxAttempts, requestTimeoutMs });
      apis.push(api);
      setKmsClientForTests("gcp", createGcpKmsClient(api));
    },
    keyAdmitting: () => newKey([ENCRYPTER_DECRYPTER, VIEWER]),
    keyRefusing: () => newKey([]),
    missingKey: async () => ({ name: `projects/${DEV_GCP_CUSTOMER_PROJECT}/locations/${DEV_GCP_LOCATION}/keyRings/${RING}/cryptoKeys/never-made` }),
    malformed: () => ({ key: { name: `projects/${DEV_GCP_CUSTOMER_PROJECT}/keyRings/${RING}/cryptoKeys/k` }, field: "name" }),
    disable: (key) => customer.setPrimaryEnabled(key.name!, false),
    enable: (key) => customer.setPrimaryEnabled(key.name!, true),
    injectFault: (fault, times) => {
      if (fault === "throttle") server.faults.throttleNext(times);
      else if (fault === "server_error") server.faults.unavailableNext(times);
      else server.faults.delayNext(TIMEOUT_FAULT_MS, times);
    },
    clearFaults: () => server.faults.reset(),
    stop: async () => {
      setKmsClientForTests("gcp", undefined);
      await Promise.all(apis.map((api) => api.close()));
      await customer.close();
      await server.close();
    },
  };
}
