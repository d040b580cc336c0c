import { markProcessStopping } from "@/lib/log";

/**
 * Stops a long-running command cleanly on Ctrl-C or SIGTERM: says so in one line, runs `close`
 * once (logging only errors meanwhile), then exits 0, or 1 with a one-line message if closing
 * failed.
 */
export function stopOnSignals(what: string, close: () => Promise<unknown>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    markProcessStopping();
    console.log(`${signal} received, stopping ${what}`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`${what} did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
