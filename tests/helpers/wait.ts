import { vi } from "vitest";

// Waiting for a condition instead of sleeping: a busy CI machine makes the wait longer, never
// the test wrong. The limit is generous on purpose; a test that needs a bound on time asserts
// ordering instead (what happened before what), or measures and reports it.

/** How long a test waits for something that normally takes milliseconds. */
export const GENEROUS_MS = 20_000;

/** Resolves once `condition` holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = GENEROUS_MS): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}
