import "server-only";
import pg from "pg";
import { AUDIT_CHANNEL } from "@/lib/audit/live/live-hub";
import { CONNECT_TIMEOUT_MS, connectionString } from "@/lib/db/pool";
import { errorFields, log } from "@/lib/log";

// What wakes the log-sink job between its passes: a commit to any audit chain. Every append
// advances its chain head, whose trigger notifies custody_audit (migration 20261129080000) when
// the transaction commits, whichever process wrote it. The job (lib/sinks/job.ts) LISTENs for
// the length of its run on a connection of its own and runs a pass as soon as one arrives, so
// an event reaches the outbox and the receiver without waiting for a timer.
//
// A notification only says "something was committed"; the pass reads the outbox and the chain
// heads as always, so a notification folded, late or lost delays delivery and never loses an
// event: without one the job still looks at least every `fallbackMs`, as it did on its tick.

const logger = log.child({ component: "sinks" });

export class CommitWake {
  private client: pg.Client | null = null;
  private count = 0;
  private readonly waiters = new Set<() => void>();

  /** Notifications received so far: take it before a pass, and wait for one after it. */
  get seen(): number {
    return this.count;
  }

  /** Whether the LISTEN connection is up. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Opens the LISTEN connection; false (logged) when it could not, and the job falls back to its timer. */
  async open(url: string = connectionString()): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, application_name: "custody-sinks-wake", connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", () => this.notified());
    try {
      await client.connect();
      await client.query(`LISTEN ${AUDIT_CHANNEL}`);
    } catch (error) {
      logger.warn(errorFields(error), "log sinks: cannot listen for audit commits; delivering on the timer");
      await client.end().catch(() => undefined);
      return false;
    }
    this.client = client;
    return true;
  }

  /** Resolves when a notification newer than `since` has arrived, after `ms`, or on abort. */
  wait(since: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.count > since || ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    for (const waiter of [...this.waiters]) waiter();
    if (!client) return;
    client.removeAllListeners("notification");
    await client.end().catch(() => undefined);
  }

  private notified(): void {
    this.count++;
    for (const waiter of [...this.waiters]) waiter();
  }

  private lost(client: pg.Client): void {
    if (client !== this.client) return;
    this.client = null;
    client.removeAllListeners("notification");
    client.end().catch(() => undefined);
    logger.warn("log sinks: lost the connection that listens for audit commits; delivering on the timer until the next run");
  }
}
