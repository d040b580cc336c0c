import "server-only";
import { timingSafeEqual } from "node:crypto";
import { isKmsError, KeyUnsuitableError, type KeyRef, type KmsClient, KMS_PROVIDERS } from "@/lib/kms";

/** A step's name as its provider calls it (AWS: GenerateDataKey, Decrypt, DescribeKey). */
export type VerifyStepName = string;
export type VerifyStep = { step: VerifyStepName; ok: boolean; message: string; ms: number };

export type VerifyOutcome =
  | { ok: true; steps: VerifyStep[]; wrappedTenantKey: Buffer }
  | { ok: false; steps: VerifyStep[]; failedStep: VerifyStepName; error: Error };

type Phase = "generate" | "unwrap" | "describe";

// Generate first: it binds the tenant, so a key whose access does not admit this tenant is
// refused before anything about the key (its state, type, even whether it is enabled) is learnt.
// Describe, which no tenant binding can scope, runs last, once the key has proved it admits this
// tenant (issue 13: no probing another tenant's key).
const ORDER: Phase[] = ["generate", "unwrap", "describe"];

/**
 * The live round trip that proves Custody may use a key for a tenant, through the key's
 * provider: generate a tenant key wrapped under it and bound to the tenant (this yields the
 * tenant key), unwrap it again with the same binding, then describe the key (enabled, fit for
 * wrapping). The plaintext is compared and wiped; only the wrapped key leaves this function.
 * Step names and success messages are the provider's.
 */
export async function runVerifySteps(kms: KmsClient, key: KeyRef, tenantId: string): Promise<VerifyOutcome> {
  const names = KMS_PROVIDERS[key.provider].verify.steps;
  const steps: VerifyStep[] = [];
  const tenant = { tenantId };
  let current: Phase = "generate";
  let plaintext: Buffer | undefined;
  let unwrapped: Buffer | undefined;
  const timed = async <T>(phase: Phase, run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    current = phase;
    const started = performance.now();
    const value = await run();
    return { value, ms: Math.round(performance.now() - started) };
  };

  try {
    const generated = await timed("generate", () => kms.generateTenantKey(key, tenant));
    plaintext = generated.value.plaintext;
    steps.push({ step: names.generate.name, ok: true, message: names.generate.success, ms: generated.ms });

    const decrypted = await timed("unwrap", () => kms.unwrapTenantKey(key, generated.value.wrapped, tenant));
    unwrapped = decrypted.value;
    if (unwrapped.length !== plaintext.length || !timingSafeEqual(unwrapped, plaintext)) {
      throw new KeyUnsuitableError("The KMS returned a different key when unwrapping; the key cannot be trusted.");
    }
    steps.push({ step: names.unwrap.name, ok: true, message: names.unwrap.success, ms: decrypted.ms });

    const described = await timed("describe", () => kms.describeKey(key));
    steps.push({ step: names.describe.name, ok: true, message: described.value.summary || names.describe.success, ms: described.ms });
    return { ok: true, steps, wrappedTenantKey: generated.value.wrapped };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error("unexpected failure");
    const explained = isKmsError(failure) || failure instanceof KeyUnsuitableError;
    steps.push({ step: names[current].name, ok: false, message: explained ? failure.message : "Unexpected error; it has been logged.", ms: 0 });
    for (const later of ORDER.slice(ORDER.indexOf(current) + 1)) {
      steps.push({ step: names[later].name, ok: false, message: "Not run.", ms: 0 });
    }
    return { ok: false, steps, failedStep: names[current].name, error: failure };
  } finally {
    plaintext?.fill(0);
    unwrapped?.fill(0);
  }
}
