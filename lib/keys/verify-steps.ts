import "server-only";
import { timingSafeEqual } from "node:crypto";
import { isKmsError, KmsError, type KmsProvider } from "@/lib/kms";
import { tenantContext } from "./encryption-context";

export type VerifyStepName = "DescribeKey" | "GenerateDataKey" | "Decrypt";
export type VerifyStep = { step: VerifyStepName; ok: boolean; message: string; ms: number };

export type VerifyOutcome =
  | { ok: true; steps: VerifyStep[]; wrappedTenantKey: Buffer }
  | { ok: false; steps: VerifyStep[]; failedStep: VerifyStepName; error: Error };

// GenerateDataKey first: it carries the tenant's encryption context, so a key whose policy or
// grant does not admit this tenant is refused before anything about the key (its state, spec,
// even whether it is enabled) is learnt. DescribeKey, which no context can scope, runs last,
// once the key has proved it admits this tenant (issue 13: no probing another tenant's key).
const ORDER: VerifyStepName[] = ["GenerateDataKey", "Decrypt", "DescribeKey"];

/** A key KMS lets Custody use, but that is not fit for the job. */
export class KeyUnsuitable extends Error {}

/**
 * The live round trip that proves Custody may use a key for a tenant: GenerateDataKey with the
 * tenant's context (this yields the tenant key, wrapped), Decrypt of that wrapped key with the
 * same context (unwrapping is allowed too), then DescribeKey (the key is an enabled symmetric
 * encryption key). The plaintext is compared and wiped; only the wrapped key leaves this function.
 */
export async function runVerifySteps(kms: KmsProvider, keyArn: string, tenantId: string): Promise<VerifyOutcome> {
  const steps: VerifyStep[] = [];
  const context = tenantContext(tenantId);
  let current: VerifyStepName = "GenerateDataKey";
  let plaintext: Buffer | undefined;
  let unwrapped: Buffer | undefined;
  const timed = async <T>(step: VerifyStepName, run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    current = step;
    const started = performance.now();
    const value = await run();
    return { value, ms: Math.round(performance.now() - started) };
  };

  try {
    const generated = await timed("GenerateDataKey", () => kms.generateDataKey(keyArn, context));
    plaintext = generated.value.plaintext;
    steps.push({ step: "GenerateDataKey", ok: true, message: "KMS generated a 256-bit tenant key under this key, bound to the tenant's encryption context.", ms: generated.ms });

    const decrypted = await timed("Decrypt", () => kms.decrypt(keyArn, generated.value.ciphertext, context));
    unwrapped = decrypted.value;
    if (unwrapped.length !== plaintext.length || !timingSafeEqual(unwrapped, plaintext)) {
      throw new KeyUnsuitable("KMS returned a different key when unwrapping; the key cannot be trusted.");
    }
    steps.push({ step: "Decrypt", ok: true, message: "KMS unwrapped the tenant key with the tenant's context.", ms: decrypted.ms });

    const described = await timed("DescribeKey", () => kms.describeKey(keyArn));
    const key = described.value;
    if (key.state !== "Enabled") {
      const kind = key.state === "Disabled" ? "key_disabled" : "invalid_state";
      throw new KmsError(kind, "DescribeKey", `KeyState:${key.state}`);
    }
    if (key.keyUsage !== null && key.keyUsage !== "ENCRYPT_DECRYPT") {
      throw new KeyUnsuitable(`This key's usage is ${key.keyUsage}; Custody needs a symmetric ENCRYPT_DECRYPT key.`);
    }
    if (key.keySpec !== null && key.keySpec !== "SYMMETRIC_DEFAULT") {
      throw new KeyUnsuitable(`This key's spec is ${key.keySpec}; Custody needs a SYMMETRIC_DEFAULT key.`);
    }
    steps.push({ step: "DescribeKey", ok: true, message: `Key is enabled (${key.keySpec ?? "symmetric"}, ${key.keyUsage ?? "encrypt/decrypt"}).`, ms: described.ms });
    return { ok: true, steps, wrappedTenantKey: generated.value.ciphertext };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error("unexpected failure");
    const explained = isKmsError(failure) || failure instanceof KeyUnsuitable;
    steps.push({ step: current, ok: false, message: explained ? failure.message : "Unexpected error; it has been logged.", ms: 0 });
    for (const later of ORDER.slice(ORDER.indexOf(current) + 1)) {
      steps.push({ step: later, ok: false, message: "Not run.", ms: 0 });
    }
    return { ok: false, steps, failedStep: current, error: failure };
  } finally {
    plaintext?.fill(0);
    unwrapped?.fill(0);
  }
}
