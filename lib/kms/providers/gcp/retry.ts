import { setTimeout as sleep } from "node:timers/promises";
import { RETRYABLE_CODES } from "./errors";

// Retries of Cloud KMS calls, as the AWS SDK's standard mode does for KMS: throttling
// (RESOURCE_EXHAUSTED) and transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL) are
// tried again up to maxAttempts in all, after a delay drawn at random below an exponentially
// growing bound ("full jitter"), so many instances do not retry in step. The last error is
// thrown as it came, so its kind survives.

const MAX_DELAY_MS = 2_000;

const retryable = (error: unknown) => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "number" && RETRYABLE_CODES.includes(code);
};

export async function withRetries<T>(settings: { maxAttempts: number; initialDelayMs: number }, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= settings.maxAttempts || !retryable(error)) throw error;
      const bound = Math.min(MAX_DELAY_MS, settings.initialDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * bound);
    }
  }
}
