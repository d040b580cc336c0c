import type { z } from "zod";
import type { Config } from "@/lib/config";
import type { KmsError, KmsErrorKind, KmsOperation } from "./errors";
import type { KmsProviderName } from "./provider-names";

// The one interface between Custody and a customer's KMS. Everything one KMS needs lives in its
// folder, lib/kms/providers/<name>/, and is reached through its KmsProviderDefinition in the
// registry (lib/kms/registry.ts). Outside that folder a key reference is opaque: the provider
// name, a canonical text (`kms_keys.key_ref`, unique per provider) and provider-specific details
// (`kms_keys.key_details`, jsonb) that only the folder reads. ARCHITECTURE.md, "How to add a KMS
// provider", says what a folder must contain.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type KeyDetails = { readonly [key: string]: JsonValue };

/** A customer's key as Custody stores it. Only the provider's own folder interprets `ref` and `details`. */
export type KeyRef = {
  provider: KmsProviderName;
  /** Canonical, unique per provider (the provider decides its form, e.g. a resource name or URL). */
  ref: string;
  details: KeyDetails;
};

/** What a registration form yields once the provider has validated it. */
export type ParsedKeyRef = { ref: string; details: KeyDetails };

/** The tenant a wrapped tenant key is bound to (AWS: encryption context; GCP: AAD; Vault: context). */
export type TenantBinding = { tenantId: string };

/** A new 256-bit tenant key and its wrapped form. The caller wipes `plaintext`. */
export type TenantKeyMaterial = { plaintext: Buffer; wrapped: Buffer };

/** The key is usable (enabled, fit for wrapping): a sentence for the verify step. */
export type KeyDescription = { summary: string };

/** One thing revocation did (or tried) on the KMS side, e.g. one AWS grant retired. */
export type KmsRevocationAction = {
  /** What was acted on, for people: "grant 1a2b3c4d5e6f…". */
  item: string;
  done: boolean;
  message: string;
  /** The KmsErrorKind (or "unexpected") when not done. */
  reason?: string;
  /** Kept in the audit event (no secrets): e.g. { grantId }. */
  auditDetails: Record<string, string>;
};

/**
 * A provider's client, one per process, built from lib/config by the definition. Every
 * cryptographic call binds the tenant, so a wrapped key cannot be unwrapped for another tenant
 * and the customer can scope Custody's access to one tenant where the KMS allows it. Every
 * failure is thrown as a KmsError (the provider's error mapping); a key that works but is unfit
 * is a KeyUnsuitableError.
 */
export interface KmsClient {
  /** A new tenant key wrapped under the customer's key (AWS: GenerateDataKey; others: local random + Encrypt/wrap). */
  generateTenantKey(key: KeyRef, tenant: TenantBinding): Promise<TenantKeyMaterial>;
  /** The tenant key's plaintext (32 bytes). */
  unwrapTenantKey(key: KeyRef, wrapped: Uint8Array, tenant: TenantBinding): Promise<Buffer>;
  /** Wraps an existing tenant key under this key (rotation across keys and providers). Optional. */
  wrapTenantKey?(key: KeyRef, plaintext: Uint8Array, tenant: TenantBinding): Promise<Buffer>;
  /** Checks the key is enabled and fit for wrapping; throws KmsError (key_disabled, invalid_state, …) or KeyUnsuitableError otherwise. */
  describeKey(key: KeyRef): Promise<KeyDescription>;
  /**
   * What revocation can do on the KMS side, best effort, after Custody's own revocation has
   * committed (AWS: retire the grants the customer gave Custody). Absent: nothing to do.
   */
  revokeAccess?(key: KeyRef): Promise<KmsRevocationAction[]>;
}

/** A field of the registration form, shown by the console as the provider declares it. */
export type RegistrationField = {
  /** The form field's name and the key of its error messages. */
  name: string;
  label: string;
  /** Help under the field (format, where to find the value). */
  hint: string;
  placeholder?: string;
  optional?: boolean;
  multiline?: boolean;
  /** Monospace input (identifiers, URLs). */
  code?: boolean;
};

/** A block of the customer's (or vendor's) instructions: prose, optionally with the exact text to paste or run. */
export type InstructionBlock = {
  title: string;
  text: string;
  code?: string;
  language?: "json" | "shell" | "hcl" | "text";
  /** A stable id for tests and copy buttons, unique within the provider's blocks. */
  id: string;
};

/** A small monochrome or coloured icon as SVG path data (no markup, so the console renders it safely). */
export type ProviderIcon = { viewBox: string; paths: ReadonlyArray<{ d: string; fill?: string }> };

/** The wording of one verify step. */
export type VerifyStepText = {
  /** The step's name as shown and stored (AWS: "GenerateDataKey"). */
  name: string;
  /** Said when the step succeeds. */
  success: string;
};

/** Optional: identifiers the customer gives Custody so revocation can act on the KMS side (AWS grant ids). */
export type RevocationHandles = {
  /** The form field (and error key) for the list, e.g. "grantIds". */
  field: string;
  label: string;
  hint: string;
  /** Parses the pasted list; throws a bad_request AppError naming the bad entry. */
  parse(text: string | undefined): string[];
  read(details: KeyDetails): string[];
  write(details: KeyDetails, handles: string[]): KeyDetails;
};

export type InstructionContext = { key: KeyRef; tenant: { id: string; slug: string }; config: Config };

export interface KmsProviderDefinition {
  name: KmsProviderName;
  display: {
    /** "AWS KMS", "Google Cloud KMS", … */
    label: string;
    icon: ProviderIcon;
    /** What the key reference is called (e.g. "Key resource name", "Key URL"). */
    referenceLabel: string;
    /** The region / location / vault / address a key lives in, for lists and the fleet. */
    location(key: KeyRef): string | null;
    /** Extra facts for the key page ("account 111122223333", "multi-Region key"). */
    facts(key: KeyRef): string[];
    /** How a wrapped tenant key is bound to the tenant, for the key page ("Encryption context: tenant_id = …"). */
    tenantBinding(tenantId: string): { label: string; value: string };
  };
  /** Whether this deployment has the provider's settings: only configured providers are offered. */
  configured(config: Config): boolean;
  registration: {
    fields: readonly RegistrationField[];
    /**
     * Validates what the customer typed (an object of the fields' strings) into the canonical
     * reference and details; issues carry the field name as path, so forms show them by field.
     */
    schema(config: Config): z.ZodType<ParsedKeyRef>;
  };
  /** The process's client, built from lib/config (called once per process, lazily). */
  createClient(config: Config): KmsClient;
  /** Maps whatever this provider's SDK threw to a KmsError (its own wording). */
  toKmsError(error: unknown, operation: KmsOperation): KmsError;
  /** What the customer does in their KMS so Custody may use the key for this tenant (exact JSON / CLI). */
  instructions(context: InstructionContext): InstructionBlock[];
  /** What the vendor does once, in its own cloud account, so Custody can reach customers' keys. */
  vendorSetup(config: Config): InstructionBlock[];
  verify: {
    /** What Verify does, for the key page ("Runs GenerateDataKey and Decrypt with this tenant's encryption context, then DescribeKey…"). */
    summary: string;
    /** Said under the instructions when access changes take a while to apply (AWS: up to five minutes); empty: nothing. */
    propagationNote: string;
    /** Said while Verify waits for new access to apply ("AWS can take a few minutes to apply …"). Optional: a neutral sentence. */
    waiting?: string;
    steps: { generate: VerifyStepText; unwrap: VerifyStepText; describe: VerifyStepText };
    /**
     * A refusal that may only be the KMS still applying the customer's new access (AWS grants
     * and key policies, GCP IAM): verify retries these kinds for up to KMS_VERIFY_WAIT_SECONDS.
     * Empty: changes apply at once.
     */
    retryWhilePropagating: readonly KmsErrorKind[];
  };
  revocation: {
    /** What revoking access does on this KMS's side, for the console. */
    summary: string;
    /** How the customer makes a revocation final in their own KMS (disable the key, remove Custody's access). Optional: a neutral sentence. */
    makeFinal?: string;
    handles?: RevocationHandles;
  };
}
