import type { KmsErrorKind } from "./errors";
import type { KmsProviderName } from "./provider-names";

// What a provider's folder hands the KMS contract suite (tests/integration/kms-contract.test.ts)
// so the same cases run against every provider: a development server speaking the provider's
// protocol, keys set up as a customer would, and faults. Used by tests only; each provider's
// `contract-harness.ts` implements it on its development server (lib/dev/<name>).

export type ContractTenant = { tenantId: string; slug: string };

/** Registration form fields (the provider's own field names) naming a key. */
export type ContractKey = Record<string, string>;

export type ContractFault = "throttle" | "server_error" | "timeout";

export interface KmsContractHarness {
  readonly provider: KmsProviderName;
  /** Variables the configuration needs so the provider counts as set up (the contract test puts them in the environment). */
  readonly configEnv: Readonly<Record<string, string>>;
  /**
   * Points this process's client for the provider at the development server
   * (setKmsClientForTests), with `maxAttempts` attempts per call and a per-request timeout of
   * `requestTimeoutMs` (shorter than the "timeout" fault's delay).
   */
  useClient(options: { maxAttempts: number; requestTimeoutMs: number }): void;
  /** A new key whose access admits Custody for this tenant (as the provider's instructions say). */
  keyAdmitting(tenant: ContractTenant): Promise<ContractKey>;
  /** A new key that exists but does not admit Custody (no permission for it). */
  keyRefusing(): Promise<ContractKey>;
  /** A well-formed reference to a key that does not exist. */
  missingKey(): Promise<ContractKey>;
  /** Fields the provider's validation refuses, and the field its message is on. */
  malformed(): { key: ContractKey; field: string };
  /** The kinds a missing key may be reported as (default: ["not_found"]). */
  readonly missingKeyKinds?: readonly KmsErrorKind[];
  /** Disables / re-enables a key, as the customer would in their KMS. */
  disable(key: ContractKey): Promise<void>;
  enable(key: ContractKey): Promise<void>;
  /** The next `times` calls to the KMS fail with the fault ("timeout": take longer than the client's request timeout). */
  injectFault(fault: ContractFault, times: number): void;
  clearFaults(): void;
  /** Stops the development server and forgets the client. */
  stop(): Promise<void>;
}
