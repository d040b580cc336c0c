import "server-only";
import { isAppError } from "@/lib/errors";
import { errorFields, log } from "@/lib/log";
import type { Caller } from "@/lib/authz";
import { PROPAGATION_WINDOW_MS, type VerifyResult, verifyKmsKey } from "./verify-kms-key";

// "Verify access" as a stream of JSON lines the key page reads with fetch: a progress line
// while verify waits for AWS to apply a new grant or policy, then one result or error line.
//
//   {"type":"progress","attempt":1,"remainingMs":287000,"failedStep":"GenerateDataKey","message":"…"}
//   {"type":"result","ok":true,"steps":[…],"becamePrimary":true,"accessRevoked":false,"attempts":2,"message":"…"}
//   {"type":"error","code":"conflict","message":"…"}

export type VerifyLine =
  | { type: "progress"; attempt: number; remainingMs: number; failedStep: string; message: string }
  | ({ type: "result"; message: string } & VerifyResult)
  | { type: "error"; code: string; message: string };

export function verifyResultMessage(result: VerifyResult): string {
  if (!result.ok) {
    return result.failure === "access_denied_vendor"
      ? "Verification failed on the vendor's side, not yours. See the failing step below."
      : "Verification failed. See the failing step below.";
  }
  return result.becamePrimary
    ? "Verified. This key is now the tenant's primary key and the vendor's access is active."
    : "Verified. Access stays revoked until you restore it.";
}

/** Runs verifyKmsKey, waiting out AWS propagation for up to five minutes, and streams it. */
export function verifyStream(
  caller: Caller,
  input: { tenantId: string; kmsKeyId: string },
  requestSignal?: AbortSignal,
  windowMs = PROPAGATION_WINDOW_MS,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  requestSignal?.addEventListener("abort", () => abort.abort(), { once: true });
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (line: VerifyLine) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      };
      try {
        const result = await verifyKmsKey(caller, input, {
          propagationWindowMs: windowMs,
          signal: abort.signal,
          onProgress: (progress) => send({ type: "progress", ...progress }),
        });
        send({ type: "result", ...result, message: verifyResultMessage(result) });
      } catch (error) {
        if (isAppError(error)) send({ type: "error", code: error.code, message: error.message });
        else {
          log.error(errorFields(error), "key verification failed");
          send({ type: "error", code: "internal", message: "Verification could not be completed. It has been logged; please try again." });
        }
      } finally {
        if (!abort.signal.aborted) controller.close();
      }
    },
    cancel() {
      abort.abort();
    },
  });
}
